"""Telegram's limits shared by several instances through Redis (bot/delivery/budget.py)."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from redis.asyncio import Redis

from bot.delivery.budget import SharedSendBudget
from bot.delivery.pacing import Limits
from bot.services.clock import ManualClock
from bot.site import SiteConfig
from storage.database import Database
from storage.repositories.outbox import OutboxRepository
from tests.e2e.scaleout import REDIS_URL, redis_prefix
from tests.unit.dispatch_support import Rig

GROUP, OTHER_GROUP, PERSON = -1001, -1002, 3001


@pytest.fixture
async def redis() -> AsyncIterator[tuple[Redis, str]]:
    async with redis_prefix() as prefix:
        client = Redis.from_url(REDIS_URL)
        yield client, prefix
        await client.aclose()


def two(redis: tuple[Redis, str], limits: Limits) -> tuple[SharedSendBudget, SharedSendBudget]:
    """The budgets of two instances of one bot."""
    client, prefix = redis
    return SharedSendBudget(client, prefix, limits), SharedSendBudget(client, prefix, limits)


async def test_a_chat_moment_used_by_one_instance_is_not_used_by_the_other(redis: tuple[Redis, str]) -> None:
    a, b = two(redis, Limits(per_chat_interval=0.5, group_per_minute=100, global_per_second=100))
    assert await a.take(GROUP) == 0
    wait = await b.take(GROUP)
    assert 0.3 < wait <= 0.5
    assert await b.take(OTHER_GROUP) == 0  # another chat is free
    await asyncio.sleep(wait + 0.02)
    assert await b.take(GROUP) == 0


async def test_the_group_minute_is_shared(redis: tuple[Redis, str]) -> None:
    a, b = two(redis, Limits(per_chat_interval=0, group_per_minute=3, global_per_second=100))
    assert [await a.take(GROUP), await b.take(GROUP), await a.take(GROUP)] == [0, 0, 0]
    assert 59 < await b.take(GROUP) <= 60
    # edits do not count against a group's minute; private chats have no such minute
    assert await b.take(GROUP, counts_for_group=False) == 0
    assert [await a.take(PERSON), await b.take(PERSON), await a.take(PERSON), await b.take(PERSON)] == [0] * 4


async def test_the_bot_second_is_shared(redis: tuple[Redis, str]) -> None:
    a, b = two(redis, Limits(per_chat_interval=0, group_per_minute=100, global_per_second=4))
    granted = [await (a if n % 2 else b).take(PERSON + n) for n in range(4)]
    assert granted == [0, 0, 0, 0]
    assert 0 < await a.take(PERSON + 10) <= 1


async def test_a_429_pauses_the_chat_for_every_instance(redis: tuple[Redis, str]) -> None:
    a, b = two(redis, Limits(per_chat_interval=0, group_per_minute=100, global_per_second=100))
    await a.pause(GROUP, 3)
    assert 2.5 < await b.take(GROUP) <= 3
    assert await b.take(OTHER_GROUP) == 0


async def test_without_redis_each_instance_paces_itself() -> None:
    unreachable = Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.5)
    budget = SharedSendBudget(unreachable, "huiwu-test", Limits(per_chat_interval=5))
    assert await budget.take(GROUP) == 0
    assert await budget.take(GROUP) == 0
    await budget.pause(GROUP, 10)  # no error either
    await unreachable.aclose()


async def test_two_senders_keep_one_pace_in_a_group(
    redis: tuple[Redis, str], site: SiteConfig, clock: ManualClock, db: Database
) -> None:
    """Two instances' senders drain one group's rows: each row goes out once, and consecutive
    messages to the group are at least the chat interval apart, whichever instance sent them."""
    client, prefix = redis
    interval = 0.3
    rigs = [
        Rig(site, clock, db, per_chat_interval_seconds=interval, instance_name=name) for name in ("a", "b")
    ]
    sent: list[tuple[float, str, str | None]] = []
    for rig in rigs:
        rig.workers.sender.pacer.monotonic = time.monotonic
        rig.workers.sender.budget = SharedSendBudget(client, prefix, rig.workers.sender.pacer.limits)
        recording = rig.telegram.make_request

        async def timed(bot: Any, method: Any, timeout: int | None = None, *, _r: Any = recording) -> Any:  # noqa: ASYNC109
            sent.append((time.monotonic(), type(method).__name__, getattr(method, "text", None)))
            return await _r(bot, method, timeout)

        rig.telegram.make_request = timed  # type: ignore[method-assign]
    async with db.transaction() as session:
        repo = OutboxRepository(session)
        for index in range(5):
            await repo.add(chat_id=GROUP, text=f"m{index}", now=clock.now())
    deadline = time.monotonic() + 10
    while len(sent) < 5 and time.monotonic() < deadline:
        await asyncio.gather(*(rig.workers.send_pending() for rig in rigs))
        await asyncio.sleep(0.02)
    await asyncio.sleep(interval)
    await asyncio.gather(*(rig.workers.send_pending() for rig in rigs))
    assert [text for _, _, text in sent] == [f"m{index}" for index in range(5)]
    gaps = [later[0] - earlier[0] for earlier, later in itertools.pairwise(sent)]
    assert min(gaps) >= interval - 0.05, gaps
