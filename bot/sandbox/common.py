"""What every part of the sandbox shares: its JSON, its refusals, and the hub of live events."""

from __future__ import annotations

import asyncio
from typing import Any

JSON = dict[str, Any]


class SandboxError(Exception):
    """A request the sandbox refuses; ``code`` is a stable key the page translates."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


class EventHub:
    """Fans one stream of events (the emulator's, plus the sandbox's own) out to every page."""

    def __init__(self) -> None:
        self._subscribers: set[asyncio.Queue[JSON]] = set()

    def subscribe(self) -> asyncio.Queue[JSON]:
        queue: asyncio.Queue[JSON] = asyncio.Queue(maxsize=5000)
        self._subscribers.add(queue)
        return queue

    def unsubscribe(self, queue: asyncio.Queue[JSON]) -> None:
        self._subscribers.discard(queue)

    def publish(self, event: JSON) -> None:
        for queue in list(self._subscribers):
            if not queue.full():
                queue.put_nowait(event)

    @property
    def subscribers(self) -> int:
        return len(self._subscribers)
