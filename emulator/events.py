"""Change notification: a sequence-numbered event log, waiters and stream subscribers."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable
from typing import Any

Event = dict[str, Any]


class Notifier:
    """Wakes coroutines waiting for a condition whenever something changed."""

    def __init__(self) -> None:
        self._waiters: list[asyncio.Future[None]] = []

    def notify(self) -> None:
        waiters, self._waiters = self._waiters, []
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)

    async def wait_for(self, predicate: Callable[[], bool], seconds: float) -> bool:
        """Wait until ``predicate()`` holds or ``seconds`` pass; return its final value."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + max(seconds, 0.0)
        while not predicate():
            remaining = deadline - loop.time()
            if remaining <= 0:
                return False
            waiter: asyncio.Future[None] = loop.create_future()
            self._waiters.append(waiter)
            try:
                await asyncio.wait_for(waiter, remaining)
            except TimeoutError:
                return predicate()
            finally:
                if waiter in self._waiters:
                    self._waiters.remove(waiter)
        return True


class EventBus:
    """Every change gets the next ``seq``; events are kept for replay and pushed to subscribers."""

    def __init__(self, keep: int = 5000) -> None:
        self.seq = 0
        self._log: deque[Event] = deque(maxlen=keep)
        self._subscribers: set[asyncio.Queue[Event]] = set()
        self.changed = Notifier()

    def next_seq(self) -> int:
        self.seq += 1
        return self.seq

    def emit(self, seq: int, kind: str, chat_id: int | None, **data: Any) -> Event:
        event: Event = {"seq": seq, "type": kind, "chat_id": chat_id, **data}
        self._log.append(event)
        for queue in list(self._subscribers):
            if queue.full():
                continue
            queue.put_nowait(event)
        self.changed.notify()
        return event

    def publish(self, kind: str, chat_id: int | None, **data: Any) -> Event:
        return self.emit(self.next_seq(), kind, chat_id, **data)

    def since(self, seq: int, chat_id: int | None = None) -> list[Event]:
        return [
            e for e in self._log if e["seq"] > seq and (chat_id is None or e["chat_id"] in (chat_id, None))
        ]

    def subscribe(self) -> asyncio.Queue[Event]:
        queue: asyncio.Queue[Event] = asyncio.Queue(maxsize=10000)
        self._subscribers.add(queue)
        return queue

    def unsubscribe(self, queue: asyncio.Queue[Event]) -> None:
        self._subscribers.discard(queue)
