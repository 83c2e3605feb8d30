"""Metrics and logs: the counters the rest of the code bumps, Prometheus text, structured logs.

Metrics are plain process-wide objects (like ``prometheus_client``'s default registry, without
the dependency): other modules call the small functions below (:func:`message_sent`,
:func:`rate_limited`, :func:`escalated` …); ``GET /metrics`` (bot/web.py) renders them with
the gauges it measures in the database at scrape time. Each process exposes its own counters;
Prometheus sums the instances.

Logs are one line per event, ``key=value`` (``LOG_FORMAT=kv``, the default) or JSON lines
(``LOG_FORMAT=json``). Every handler installed here carries :class:`RedactSecrets`: the bot
token (aiohttp and aiogram put it in request URLs, ``/bot<token>/method``), the webhook secret
and database/Redis passwords never reach the output, not even inside a traceback.
"""

from __future__ import annotations

import json
import logging
import math
import re
import sys
import threading
import time
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import IO, Any
from urllib.parse import unquote

# ---------------------------------------------------------------------------- metrics

Labels = tuple[str, ...]


def _escape_label(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _number(value: float) -> str:
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if value == int(value) and abs(value) < 1e15:
        return str(int(value))
    return repr(float(value))


def _sample(name: str, labels: dict[str, str], value: float) -> str:
    if labels:
        inner = ",".join(f'{key}="{_escape_label(str(val))}"' for key, val in labels.items())
        return f"{name}{{{inner}}} {_number(value)}"
    return f"{name} {_number(value)}"


class Metric:
    kind = "untyped"

    def __init__(self, name: str, help_text: str, labels: Sequence[str] = ()) -> None:
        self.name = name
        self.help = help_text
        self.label_names: Labels = tuple(labels)
        self._values: dict[Labels, float] = {}
        self._lock = threading.Lock()
        if not self.label_names:
            self._values[()] = 0.0

    def _key(self, labels: dict[str, str]) -> Labels:
        if set(labels) != set(self.label_names):
            raise ValueError(f"{self.name} takes the labels {self.label_names}, not {tuple(labels)}")
        return tuple(str(labels[name]) for name in self.label_names)

    def value(self, **labels: str) -> float:
        return self._values.get(self._key(labels), 0.0)

    def samples(self) -> list[tuple[str, dict[str, str], float]]:
        with self._lock:
            items = sorted(self._values.items())
        return [(self.name, dict(zip(self.label_names, key, strict=True)), value) for key, value in items]

    def render(self) -> str:
        lines = [f"# HELP {self.name} {self.help}", f"# TYPE {self.name} {self.kind}"]
        lines += [_sample(name, labels, value) for name, labels, value in self.samples()]
        return "\n".join(lines)

    def reset(self) -> None:
        with self._lock:
            self._values = {(): 0.0} if not self.label_names else {}


class Counter(Metric):
    kind = "counter"

    def inc(self, amount: float = 1.0, **labels: str) -> None:
        if amount < 0:
            raise ValueError("a counter only goes up")
        key = self._key(labels)
        with self._lock:
            self._values[key] = self._values.get(key, 0.0) + amount

    def declare(self, **labels: str) -> None:
        """Show this label set as 0 before it first happens (so rates start from a sample)."""
        key = self._key(labels)
        with self._lock:
            self._values.setdefault(key, 0.0)


class Gauge(Metric):
    kind = "gauge"

    def set(self, value: float, **labels: str) -> None:
        key = self._key(labels)
        with self._lock:
            self._values[key] = float(value)


class Summary(Metric):
    """Count and sum of observations (no quantiles): enough for averages and rates."""

    kind = "summary"

    def __init__(self, name: str, help_text: str) -> None:
        super().__init__(name, help_text)
        self._count = 0
        self._sum = 0.0

    def observe(self, value: float) -> None:
        with self._lock:
            self._count += 1
            self._sum += value

    def samples(self) -> list[tuple[str, dict[str, str], float]]:
        with self._lock:
            return [(f"{self.name}_count", {}, float(self._count)), (f"{self.name}_sum", {}, self._sum)]

    def reset(self) -> None:
        with self._lock:
            self._count, self._sum = 0, 0.0


class Registry:
    def __init__(self) -> None:
        self.metrics: dict[str, Metric] = {}

    def add(self, metric: Metric) -> Any:
        if metric.name in self.metrics:
            raise ValueError(f"metric {metric.name} exists already")
        self.metrics[metric.name] = metric
        return metric

    def render(self, extra: Iterable[Metric] = ()) -> str:
        """The Prometheus text exposition format (version 0.0.4)."""
        blocks = [metric.render() for metric in [*self.metrics.values(), *extra]]
        return "\n".join(blocks) + "\n"

    def reset(self) -> None:
        for metric in self.metrics.values():
            metric.reset()
        _declare_defaults()


CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
REGISTRY = Registry()
STARTED_AT = time.time()

UPDATES = REGISTRY.add(
    Counter("huiwu_updates_total", "Telegram updates by outcome (handled, duplicate, failed).", ["outcome"])
)
HANDLER_ERRORS = REGISTRY.add(
    Counter("huiwu_update_errors_total", "Updates whose handlers raised (the person was told so).")
)
UPDATE_SECONDS = REGISTRY.add(Summary("huiwu_update_seconds", "Time spent handling one update."))
WEBHOOK_REJECTED = REGISTRY.add(
    Counter("huiwu_webhook_rejected_total", "Webhook requests refused (bad secret, malformed).", ["reason"])
)
MESSAGES_SENT = REGISTRY.add(
    Counter("huiwu_messages_sent_total", "Outbox deliveries Telegram accepted (send or edit).", ["method"])
)
SEND_FAILURES = REGISTRY.add(
    Counter("huiwu_send_failures_total", "Outbox deliveries that failed (retry later or given up).", ["kind"])
)
RATE_LIMITED = REGISTRY.add(
    Counter("huiwu_telegram_429_total", "429 Too Many Requests answers from Telegram.")
)
ESCALATIONS = REGISTRY.add(
    Counter("huiwu_escalations_total", "Task escalations, by the role told.", ["role"])
)
TICKS = REGISTRY.add(Counter("huiwu_tick_steps_total", "Task timer steps taken (push, remind, escalate)."))


def _declare_defaults() -> None:
    for outcome in ("handled", "duplicate", "failed"):
        UPDATES.declare(outcome=outcome)
    for method in ("send", "edit"):
        MESSAGES_SENT.declare(method=method)
    for kind in ("retry", "failed"):
        SEND_FAILURES.declare(kind=kind)
    for reason in ("secret", "malformed"):
        WEBHOOK_REJECTED.declare(reason=reason)


_declare_defaults()


# ---- what the rest of the code calls -------------------------------------------------------


def update_handled(outcome: str, seconds: float | None = None) -> None:
    """``outcome``: handled, duplicate, or failed (an error escaped every error handler)."""
    UPDATES.inc(outcome=outcome)
    if seconds is not None:
        UPDATE_SECONDS.observe(seconds)


def handler_error() -> None:
    HANDLER_ERRORS.inc()


def webhook_rejected(reason: str) -> None:
    WEBHOOK_REJECTED.inc(reason=reason)


def message_sent(method: str = "send") -> None:
    """A send (or an edit, ``method="edit"``) that Telegram accepted."""
    MESSAGES_SENT.inc(method=method)


def send_failed(kind: str = "retry") -> None:
    """``kind``: ``retry`` (will be tried again) or ``failed`` (given up)."""
    SEND_FAILURES.inc(kind=kind)


def rate_limited() -> None:
    RATE_LIMITED.inc()


def escalated(role: str | None) -> None:
    ESCALATIONS.inc(role=role or "none")


def tick_steps(steps: int) -> None:
    if steps:
        TICKS.inc(steps)


# ---------------------------------------------------------------------------- logs

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
