"""Telegram's flood limits for outgoing messages."""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from .config import RateLimitConfig


@dataclass(frozen=True)
class RateLimited:
    retry_after: int
    scope: str
    """Which limit was hit: ``chat``, ``group`` or ``global``."""


@dataclass
class _Bucket:
    tokens: float
    updated: float


class RateLimiter:
    """Per-chat token bucket, per-group rolling window and a global rolling window."""

    def __init__(self, config: RateLimitConfig, clock: Callable[[], float] = time.monotonic) -> None:
        self.config = config
        self.clock = clock
        self._buckets: dict[int, _Bucket] = {}
        self._groups: dict[int, deque[float]] = {}
        self._global: deque[float] = deque()

    def reset(self) -> None:
        self._buckets.clear()
        self._groups.clear()
        self._global.clear()

    def acquire(self, chat_id: int) -> RateLimited | None:
        """Count one message to ``chat_id``, or say how long to wait (nothing is counted then)."""
        config = self.config
        if not config.enabled:
            return None
        now = self.clock()
        waits: list[tuple[float, str]] = []

        bucket = self._buckets.get(chat_id)
        if bucket is None:
            bucket = self._buckets[chat_id] = _Bucket(float(config.per_chat_burst), now)
        rate = max(config.per_chat_rate, 1e-9)
        bucket.tokens = min(float(config.per_chat_burst), bucket.tokens + (now - bucket.updated) * rate)
        bucket.updated = now
        if bucket.tokens < 1.0:
            waits.append(((1.0 - bucket.tokens) / rate, "chat"))

        group = None
        if chat_id < 0:
            group = self._groups.setdefault(chat_id, deque())
            waits.extend(_window_wait(group, now, config.group_limit, config.group_window, "group"))
        waits.extend(_window_wait(self._global, now, config.global_limit, config.global_window, "global"))

        if waits:
            wait, scope = max(waits)
            return RateLimited(max(1, math.ceil(wait - 1e-9)), scope)
        bucket.tokens -= 1.0
        if group is not None:
            group.append(now)
        self._global.append(now)
        return None


def _window_wait(
    stamps: deque[float], now: float, limit: int, window: float, scope: str
) -> list[tuple[float, str]]:
    while stamps and stamps[0] <= now - window:
        stamps.popleft()
    if limit <= 0:
        return [(window, scope)]
    if len(stamps) < limit:
        return []
    return [(stamps[len(stamps) - limit] + window - now, scope)]
