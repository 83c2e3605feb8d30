from __future__ import annotations

from emulator.config import RateLimitConfig
from emulator.ratelimit import RateLimiter


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_per_chat_bucket_allows_a_burst_then_refills() -> None:
    clock = Clock()
    limiter = RateLimiter(RateLimitConfig(), clock)
    assert [limiter.acquire(1) for _ in range(3)] == [None, None, None]
    limited = limiter.acquire(1)
    assert limited is not None
    assert (limited.retry_after, limited.scope) == (1, "chat")
    assert limiter.acquire(2) is None
    clock.now += 1.0
    assert limiter.acquire(1) is None
    assert limiter.acquire(1) is not None


def test_group_window() -> None:
    clock = Clock()
    limiter = RateLimiter(RateLimitConfig(per_chat_burst=100, per_chat_rate=100.0), clock)
    for _ in range(20):
        assert limiter.acquire(-5) is None
        clock.now += 0.5
    limited = limiter.acquire(-5)
    assert limited is not None
    assert limited.scope == "group"
    assert limited.retry_after == 50
    clock.now += 50
    assert limiter.acquire(-5) is None


def test_global_limit() -> None:
    clock = Clock()
    limiter = RateLimiter(RateLimitConfig(global_limit=5), clock)
    assert all(limiter.acquire(chat) is None for chat in range(1, 6))
    limited = limiter.acquire(99)
    assert limited is not None and limited.scope == "global"
    assert limited.retry_after == 1


def test_disabled() -> None:
    limiter = RateLimiter(RateLimitConfig(enabled=False), Clock())
    assert all(limiter.acquire(1) is None for _ in range(100))
