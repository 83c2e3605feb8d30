"""Telegram's sending limits, kept in memory by one sender process (by ``time.monotonic``).

One message per ``per_chat_interval`` in a chat, ``group_per_minute`` messages per group in
any 60 s, ``global_per_second`` calls in any second. A slot is stamped when its call
*returns*, so the next call can never fall inside Telegram's window of the previous one. A
429 pauses only its chat, for ``retry_after``. Pictures and files count like any other
message. The outbox (bot/delivery/outbox.py) asks the :class:`Pacer` before it claims a row;
several instances share the same limits through bot/delivery/budget.py.
"""

from __future__ import annotations

import time
from collections import defaultdict, deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass

GROUP_WINDOW = 60.0
GLOBAL_WINDOW = 1.0


# ---------------------------------------------------------------------------- pacing


@dataclass
class Slot:
    """One call counted against the limits; ``at`` moves to the moment its answer came."""

    chat_id: int
    at: float
    counts_for_group: bool


@dataclass(frozen=True)
class Limits:
    per_chat_interval: float = 1.0
    group_per_minute: int = 20
    global_per_second: int = 30


class Pacer:
    """Telegram's sending limits, kept in memory by one sender process."""

    def __init__(self, limits: Limits, monotonic: Callable[[], float] = time.monotonic) -> None:
        self.limits = limits
        self.monotonic = monotonic
        self._last: dict[int, Slot] = {}
        self._groups: dict[int, deque[Slot]] = defaultdict(deque)
        self._global: deque[Slot] = deque()
        self._paused: dict[int, float] = {}

    def now(self) -> float:
        return self.monotonic()

    def _prune(self, stamps: deque[Slot], now: float, window: float) -> None:
        while stamps and stamps[0].at <= now - window:
            stamps.popleft()

    def paused_until(self, chat_id: int) -> float:
        return self._paused.get(chat_id, 0.0)

    def chat_ready_at(self, chat_id: int) -> float:
        """The earliest moment this chat may get its next call (ignoring the global limit)."""
        moments = [self.paused_until(chat_id)]
        last = self._last.get(chat_id)
        if last is not None:
            moments.append(last.at + self.limits.per_chat_interval)
        if chat_id < 0:
            window = self._groups[chat_id]
            self._prune(window, self.now(), GROUP_WINDOW)
            if len(window) >= self.limits.group_per_minute:
                moments.append(window[len(window) - self.limits.group_per_minute].at + GROUP_WINDOW)
        return max(moments)

    def chat_ready(self, chat_id: int, counts_for_group: bool = True) -> bool:
        now = self.now()
        if self.paused_until(chat_id) > now:
            return False
        last = self._last.get(chat_id)
        if last is not None and last.at + self.limits.per_chat_interval > now:
            return False
        return not (counts_for_group and chat_id < 0 and self.group_remaining(chat_id) <= 0)

    def global_ready(self) -> bool:
        return self.global_remaining() > 0

    def global_remaining(self) -> int:
        self._prune(self._global, self.now(), GLOBAL_WINDOW)
        return max(0, self.limits.global_per_second - len(self._global))

    def group_remaining(self, chat_id: int) -> int:
        window = self._groups[chat_id]
        self._prune(window, self.now(), GROUP_WINDOW)
        return max(0, self.limits.group_per_minute - len(window))

    def reserve(self, chat_id: int, counts_for_group: bool = True) -> Slot:
        slot = Slot(chat_id, self.now(), counts_for_group and chat_id < 0)
        self._last[chat_id] = slot
        if slot.counts_for_group:
            self._groups[chat_id].append(slot)
        self._global.append(slot)
        return slot

    def finish(self, slot: Slot) -> None:
        slot.at = max(slot.at, self.now())

    def pause(self, chat_id: int, seconds: float) -> None:
        self._paused[chat_id] = max(self.paused_until(chat_id), self.now() + seconds)

    def next_ready_in(self, chat_ids: Sequence[int]) -> float | None:
        """Seconds until one of these chats may send again (None: none is waiting)."""
        if not chat_ids:
            return None
        now = self.now()
        return max(0.0, min(self.chat_ready_at(chat) for chat in chat_ids) - now)


def backoff_seconds(attempts: int) -> float:
    """1, 2, 4 … seconds, at most a minute, after a server error or a timeout."""
    return float(min(60, 2 ** max(0, attempts - 1)))
