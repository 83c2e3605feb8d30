"""Emulator settings, settable at construction and through ``/_emu/config``."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any


@dataclass
class RateLimitConfig:
    """Telegram's send limits: per chat (token bucket), per group (rolling window), global."""

    enabled: bool = True
    per_chat_burst: int = 3
    per_chat_rate: float = 1.0
    group_limit: int = 20
    group_window: float = 60.0
    global_limit: int = 30
    global_window: float = 1.0

    def update(self, values: dict[str, Any]) -> None:
        _apply(self, values)


@dataclass
class EmulatorConfig:
    bot_username: str = "huiwu_bot"
    bot_first_name: str = "Huiwu"
    token: str | None = None
    """When set, every other token is answered 401 Unauthorized."""
    privacy_mode: bool = True
    """Group privacy (BotFather's /setprivacy, reported by getMe as the opposite of
    ``can_read_all_group_messages``): only commands, replies to the bot and mentions reach the
    bot in a group where it is not an admin. As in Telegram, a change applies to the groups the
    bot joins afterwards: a group it is already in keeps the setting it joined with until the
    bot is removed and added again."""
    strict_html: bool = True
    """Reject a bare ``&`` in HTML text (Telegram keeps it as text; this catches missing escapes)."""
    require_start: bool = False
    """Refuse to message users who never wrote to the bot (403 "bot can't initiate conversation")."""
    callback_answer_timeout: float | None = None
    """Seconds after which a callback query can no longer be answered (None = never)."""
    rate_limits: RateLimitConfig = field(default_factory=RateLimitConfig)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def update(self, values: dict[str, Any]) -> None:
        values = dict(values)
        limits = values.pop("rate_limits", None)
        _apply(self, values)
        if isinstance(limits, dict):
            self.rate_limits.update(limits)
        elif isinstance(limits, bool):
            self.rate_limits.enabled = limits

    @property
    def bot_id_hint(self) -> int | None:
        if self.token and ":" in self.token and self.token.split(":", 1)[0].isdigit():
            return int(self.token.split(":", 1)[0])
        return None


def _apply(target: object, values: dict[str, Any]) -> None:
    known = {f.name: f for f in fields(target)}  # type: ignore[arg-type]
    for key, value in values.items():
        if key not in known or key == "rate_limits":
            raise ValueError(f"unknown setting {key!r}")
        current = getattr(target, key)
        if isinstance(current, bool) and not isinstance(value, bool):
            raise ValueError(f"setting {key!r} must be a boolean")
        if isinstance(current, (int, float)) and not isinstance(current, bool):
            if not isinstance(value, (int, float)) or isinstance(value, bool):
                raise ValueError(f"setting {key!r} must be a number")
            value = type(current)(value) if isinstance(current, float) else value
        setattr(target, key, value)
