"""What every part of the emulator's state shares: configuration, clocks, the event log, id
counters, the bot's identity and settings, the counters, and the raw message history.

The parts (directory, messages, files, updates, user actions, commands) each receive this one
object, so the bot id learnt from a token or a reset of the counters is seen by all of them at
once without the parts knowing each other.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from .config import EmulatorConfig
from .events import EventBus, Notifier
from .models import JSON, StoredMessage

DEFAULT_BOT_ID = 7000000001


@dataclass
class Stats:
    calls: Counter[str] = field(default_factory=Counter)
    messages_sent: int = 0
    rate_limited: int = 0
    rate_limited_by_scope: Counter[str] = field(default_factory=Counter)
    errors: Counter[int] = field(default_factory=Counter)
    faults_triggered: int = 0
    updates_delivered: int = 0
    per_chat: dict[int, Counter[str]] = field(default_factory=dict)

    def chat(self, chat_id: int) -> Counter[str]:
        return self.per_chat.setdefault(chat_id, Counter())

    def to_dict(self) -> JSON:
        return {
            "calls": dict(self.calls),
            "messages_sent": self.messages_sent,
            "rate_limited": self.rate_limited,
            "rate_limited_by_scope": dict(self.rate_limited_by_scope),
            "errors": {str(code): n for code, n in self.errors.items()},
            "faults_triggered": self.faults_triggered,
            "updates_delivered": self.updates_delivered,
            "per_chat": {str(chat_id): dict(c) for chat_id, c in self.per_chat.items()},
        }


class Core:
    """The shared context of the state's parts."""

    def __init__(
        self,
        config: EmulatorConfig,
        clock: Callable[[], float],
        wall_clock: Callable[[], float],
    ) -> None:
        self.config = config
        self.clock = clock
        self.wall_clock = wall_clock
        self.events = EventBus()
        self.updates_changed = Notifier()
        self.bot_id = config.bot_id_hint or DEFAULT_BOT_ID
        # One counter for query ids and file numbers: it keeps increasing across resets, so an
        # id handed out before a reset never comes back.
        self._ids = itertools.count(1)
        self.clear()

    def clear(self) -> None:
        self.bot_settings: JSON = {}
        self.stats = Stats()

    def next_id(self) -> int:
        return next(self._ids)

    def now(self) -> int:
        """Telegram's server time, the ``date`` of every message and edit (Unix seconds)."""
        return int(self.wall_clock())

    @property
    def bot_user(self) -> JSON:
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": self.config.bot_first_name,
            "username": self.config.bot_username,
        }


class History:
    """Every message of every chat by chat and message id: the store alone, shared by the
    directory (which counts a chat's messages) and the messages part (which fills it)."""

    def __init__(self) -> None:
        self.by_chat: dict[int, dict[int, StoredMessage]] = {}

    def clear(self) -> None:
        self.by_chat = {}

    def get(self, chat_id: int, message_id: int) -> StoredMessage | None:
        return self.by_chat.get(chat_id, {}).get(message_id)

    def in_chat(self, chat_id: int) -> list[StoredMessage]:
        return list(self.by_chat.get(chat_id, {}).values())

    def count(self, chat_id: int) -> int:
        return len(self.by_chat.get(chat_id, {}))

    def add(self, message: StoredMessage) -> None:
        self.by_chat.setdefault(message.chat_id, {})[message.message_id] = message
