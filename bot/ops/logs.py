"""Logs: one line per event, secrets taken out.

Lines are ``key=value`` (``LOG_FORMAT=kv``, the default) or JSON lines (``LOG_FORMAT=json``).
Every handler installed here carries :class:`RedactSecrets`: the bot token (aiohttp and aiogram
put it in request URLs, ``/bot<token>/method``), the webhook secret and database/Redis
passwords never reach the output, not even inside a traceback.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import IO, Any
from urllib.parse import unquote

REDACTED = "<redacted>"
# A bot token anywhere (also one this process was not given), with its colon URL-encoded or not;
# the bot id before the colon is public and kept, so the line still says which bot it was.
TOKEN_PATTERN = re.compile(r"(?<!\d)(\d{3,20})(:|%3A|%3a)[A-Za-z0-9_-]{20,}")
_STANDARD_ATTRIBUTES = frozenset(
    vars(logging.LogRecord("", 0, "", 0, "", (), None)).keys() | {"message", "asctime", "taskName"}
)


class RedactSecrets(logging.Filter):
    """Takes the bot token and other secrets out of every record before any formatter sees it.

    The message is rendered (``msg % args``) and redacted, the exception and stack text are
    rendered and redacted, and so is every string ``extra`` field. Attached to handlers (not
    loggers) so records propagated from aiogram, aiohttp and asyncio pass through it too.
    """

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self.secrets: list[str] = []
        for secret in secrets:
            self.add(secret)

    def add(self, secret: str | None) -> None:
        if not secret or len(secret) < 6:
            return
        bot_id, colon, rest = secret.partition(":")
        # a token: only the part after the colon is secret; the bot id stays readable
        is_token = bool(colon and bot_id.isdigit() and rest)
        forms = {rest} if is_token else {secret, unquote(secret)}
        for form in forms:
            if len(form) >= 6 and form not in self.secrets:
                self.secrets.append(form)
        self.secrets.sort(key=len, reverse=True)

    def redact(self, text: str) -> str:
        for secret in self.secrets:
            if secret in text:
                text = text.replace(secret, REDACTED)
        return TOKEN_PATTERN.sub(lambda m: f"{m.group(1)}{m.group(2)}{REDACTED}", text)

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a bad format string must not take the secret with it
            message = f"{record.msg!s} {record.args!r}"
        record.msg, record.args = self.redact(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
        for key, value in list(vars(record).items()):
            if key not in _STANDARD_ATTRIBUTES and isinstance(value, str):
                setattr(record, key, self.redact(value))
        return True


def _event_fields(record: logging.LogRecord) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
        "level": record.levelname,
        "logger": record.name,
        "msg": record.getMessage(),
    }
    for key, value in vars(record).items():
        if key not in _STANDARD_ATTRIBUTES and not key.startswith("_") and key not in fields:
            fields[key] = value
    if record.exc_info and not record.exc_text:
        record.exc_text = logging.Formatter().formatException(record.exc_info)
    if record.exc_text:
        fields["exc"] = record.exc_text
    if record.stack_info:
        fields["stack"] = record.stack_info
    return fields


class _RedactingFormatter(logging.Formatter):
    def __init__(self, redactor: RedactSecrets | None = None) -> None:
        super().__init__()
        self.redactor = redactor

    def _finish(self, line: str) -> str:
        # the filter already cleaned the record; this catches a formatter-added surprise
        return self.redactor.redact(line) if self.redactor is not None else line


_BARE = re.compile(r"^[A-Za-z0-9_.:/@+\-<>,#]+$")


def _kv_value(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    if text and _BARE.match(text):
        return text
    return json.dumps(text, ensure_ascii=False)


class KeyValueFormatter(_RedactingFormatter):
    """``ts=… level=INFO logger=bot.app msg="…" key=value``; newlines are escaped: one line."""

    def format(self, record: logging.LogRecord) -> str:
        fields = _event_fields(record)
        return self._finish(" ".join(f"{key}={_kv_value(value)}" for key, value in fields.items()))


class JsonFormatter(_RedactingFormatter):
    """One JSON object per line."""

    def format(self, record: logging.LogRecord) -> str:
        return self._finish(json.dumps(_event_fields(record), ensure_ascii=False, default=str))


LOG_FORMATS = ("kv", "json")
_OUR_HANDLER = "huiwu"


def secrets_of(settings: Any) -> list[str]:
    """What must never be logged: the token, the webhook secret, database and Redis passwords."""
    found: list[str] = []
    for name in ("bot_token", "webhook_secret"):
        value = getattr(settings, name, None)
        if value is not None:
            found.append(value.get_secret_value() if hasattr(value, "get_secret_value") else str(value))
    for name in ("database_url", "redis_url"):
        url = getattr(settings, name, None)
        match = re.match(r"^[a-z0-9+]+://[^:/@]*:([^@/]+)@", url or "")
        if match:
            found.append(match.group(1))
    return [secret.strip() for secret in found if secret and secret.strip()]


def configure_logging(
    level: str = "INFO",
    log_format: str = "kv",
    secrets: Iterable[str] = (),
    stream: IO[str] | None = None,
) -> logging.Handler:
    """One handler on the root logger (replacing the one an earlier call installed)."""
    redactor = RedactSecrets(secrets)
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.set_name(_OUR_HANDLER)
    handler.addFilter(redactor)
    handler.setFormatter(JsonFormatter(redactor) if log_format == "json" else KeyValueFormatter(redactor))
    root = logging.getLogger()
    for old in list(root.handlers):
        if old.get_name() == _OUR_HANDLER or (old.__class__ is logging.StreamHandler and not old.filters):
            root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    logging.captureWarnings(True)  # aiogram's "slow response into webhook" is a warning
    return handler
