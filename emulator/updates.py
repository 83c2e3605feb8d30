"""The bot's update queue: what getUpdates long polling and a webhook hand out, and in what order.

Every change the bot is told about (a message, a button press, a membership change) becomes an
update with the next ``update_id``; getUpdates confirms them by offset, a webhook delivery drops
them one by one.
"""

from __future__ import annotations

import itertools
from typing import Any

from .core import Core
from .models import JSON

UPDATE_TYPES = (
    "message",
    "edited_message",
    "callback_query",
    "my_chat_member",
    "chat_member",
    "message_reaction",
    "message_reaction_count",
)
_NOT_BY_DEFAULT = frozenset({"chat_member", "message_reaction", "message_reaction_count"})


class Updates:
    def __init__(self, core: Core) -> None:
        self.core = core
        self.active_poll: Any = None
        """The getUpdates request now waiting, so that a second poller gets Telegram's conflict."""
        # Update ids keep increasing across resets, as Telegram's do.
        self._update_ids = itertools.count(1)
        self.clear()

    def clear(self) -> None:
        self.pending: list[JSON] = []
        self._bot_ids: dict[int, int] = {}
        self.allowed_updates: list[str] | None = None
        self.webhook: JSON = {"url": ""}

    def reserve_id(self) -> int:
        """The next update id, for a message that must carry it before it is stored."""
        return next(self._update_ids)

    def push(self, kind: str, payload: JSON) -> int:
        update_id = self.reserve_id()
        self.enqueue(update_id, kind, payload)
        return update_id

    def enqueue(self, update_id: int, kind: str, payload: JSON) -> None:
        self.pending.append({"update_id": update_id, kind: payload})
        self._bot_ids[update_id] = self.core.bot_id
        self.core.events.publish("update", _update_chat(kind, payload), update_id=update_id, update_type=kind)
        self.core.updates_changed.notify()

    def confirm(self, offset: int) -> None:
        if offset < 0:
            self.pending = self.pending[offset:]
        else:
            self.pending = [u for u in self.pending if u["update_id"] >= offset]
        alive = {u["update_id"] for u in self.pending}
        self._bot_ids = {k: v for k, v in self._bot_ids.items() if k in alive}

    def available(self, limit: int) -> list[JSON]:
        allowed = self.allowed_updates
        wanted = set(allowed) if allowed else set(UPDATE_TYPES) - _NOT_BY_DEFAULT
        kept = [u for u in self.pending if _update_kind(u) in wanted]
        self.pending = kept
        return [self._with_current_bot(u) for u in kept[:limit]]

    def for_webhook(self) -> list[JSON]:
        """What a webhook would be sent now, oldest first (the webhook's own allowed_updates)."""
        allowed = self.webhook.get("allowed_updates")
        if isinstance(allowed, list) and allowed:
            wanted = set(allowed)
        else:
            wanted = set(UPDATE_TYPES) - _NOT_BY_DEFAULT
        return [self._with_current_bot(u) for u in self.pending if _update_kind(u) in wanted]

    def drop(self, update_id: int) -> None:
        """A webhook delivery was accepted: the update is gone from the queue."""
        self.pending = [u for u in self.pending if u["update_id"] != update_id]
        self._bot_ids.pop(update_id, None)
        self.core.stats.updates_delivered += 1

    def _with_current_bot(self, update: JSON) -> JSON:
        """Updates made before the bot's first call name a placeholder bot id; fix them up."""
        created_for = self._bot_ids.get(update["update_id"], self.core.bot_id)
        if created_for == self.core.bot_id:
            return update
        fixed = _rebind_bot(update, created_for, self.core.bot_user)
        assert isinstance(fixed, dict)
        return fixed


def _rebind_bot(value: Any, old_id: int, bot_user: JSON) -> Any:
    if isinstance(value, dict):
        if value.get("is_bot") is True and value.get("id") == old_id:
            return dict(bot_user)
        return {key: _rebind_bot(item, old_id, bot_user) for key, item in value.items()}
    if isinstance(value, list):
        return [_rebind_bot(item, old_id, bot_user) for item in value]
    return value


def _update_kind(update: JSON) -> str:
    return next(key for key in update if key != "update_id")


def _update_chat(kind: str, payload: JSON) -> int | None:
    if kind == "callback_query":
        return (payload.get("message") or {}).get("chat", {}).get("id")
    return (payload.get("chat") or {}).get("id")
