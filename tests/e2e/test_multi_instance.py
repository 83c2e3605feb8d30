"""Two full instances in webhook mode against one PostgreSQL database and one Redis.

Both are built by the same composition root as ``huiwu run --webhook``, started together on a
fresh database (their migrations take turns under an advisory lock), and share one Bot API
emulator and one ManualClock. Updates are POSTed to both (the emulator's webhook pusher takes
the instances in turn, like a load balancer), so a booking dialog hops between them with its
state in Redis; both run their timer and sender loops, so every task timer and outbox row is
contended. Skipped when PostgreSQL or Redis does not answer on 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import aiohttp
import pytest
from sqlalchemy import func, select

from bot.delivery.outbox import PENDING, SENDING, SENT
from bot.jobs import run_clock_jobs
from bot.ops import metrics
from bot.ops.lease import InstanceNameLease, InstanceNameTaken
from bot.services.clock import ManualClock
from bot.services.types import BookingStatus
from bot.site import SiteConfig, load_site
from emulator.client import EmulatorClient
from emulator.server import EmulatorServer
from emulator.webhook import WebhookPusher
from storage.models import Booking, OutboxMessage, ProcessedUpdate, Task
from storage.repositories.tasks import TIMED_STATUSES
from tests.e2e.booking_steps import english_to_summary
from tests.e2e.scaleout import (
    REDIS_URL,
    Instance,
    post_everywhere,
    postgres_database,
    redis_prefix,
    webhook_instance,
)
from tests.support.clock_steps import book
from tests.support.harness import DEFAULT_START, EXAMPLE_SITE, TOKEN, Harness, register_site_people
from tests.support.people import ALICE, WANG

QUIET_TIMEOUT = 30.0


@dataclass
class Cluster:
    server: EmulatorServer
    emu: EmulatorClient
    clock: ManualClock
    site: SiteConfig
    a: Instance
    b: Instance
    http: aiohttp.ClientSession

    @property
    def instances(self) -> list[Instance]:
        return [self.a, self.b]

    @property
    def urls(self) -> list[str]:
        return [self.a.webhook_url, self.b.webhook_url]

    def harness(self) -> Harness:
        return Harness(self.server, self.emu, self.a.app, self.clock, self.site)

    async def queued(self, user_id: int, text: str) -> dict:
        sent = await self.emu.send_message(user_id, text)
        return next(u for u in await self.emu.pending_updates() if u["update_id"] == sent["update_id"])

    async def quiet(self) -> None:
        """Both instances tick and send (their loops run too) until nothing due is left."""
        deadline = asyncio.get_running_loop().time() + QUIET_TIMEOUT
        db = self.a.app.db
        while True:
            await asyncio.gather(*(i.app.workers.tick_once() for i in self.instances))
            await asyncio.gather(*(i.app.workers.send_pending() for i in self.instances))
            now = self.clock.now()
            async with db.sessionmaker() as session:
                timers = await session.scalar(
                    select(func.count()).where(Task.next_at <= now, Task.status.in_(TIMED_STATUSES))
                )
                outbox = await session.scalar(
                    select(func.count()).where(
                        (OutboxMessage.status == SENDING)
                        | ((OutboxMessage.status == PENDING) & (OutboxMessage.not_before <= now))
                    )
                )
            if not timers and not outbox:
                return
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"not quiet: {timers} timers due, {outbox} outbox rows waiting")
            await asyncio.sleep(0.05)


@pytest.fixture
async def cluster() -> AsyncIterator[Cluster]:
    site = load_site(EXAMPLE_SITE)
    clock = ManualClock(DEFAULT_START)
    async with postgres_database() as database, redis_prefix() as prefix:
        server = EmulatorServer(token=TOKEN)
        server.config.rate_limits.enabled = False
        await server.start()
        emu = EmulatorClient(server.base_url)
        try:
            await register_site_people(emu, site)
            async with contextlib.AsyncExitStack() as stack:
                shared = {"redis_url": REDIS_URL, "redis_prefix": prefix}
                # started together on an empty database: the migrations must take turns
                a, b = await asyncio.gather(
                    stack.enter_async_context(
                        webhook_instance(site, clock, database, server.base_url, instance_name="a", **shared)
                    ),
                    stack.enter_async_context(
                        webhook_instance(site, clock, database, server.base_url, instance_name="b", **shared)
                    ),
                )
                http = await stack.enter_async_context(
                    aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30))
                )
                yield Cluster(server, emu, clock, site, a, b, http)
        finally:
            await emu.close()
            await server.stop()


async def test_one_update_delivered_to_both_instances_at_once_is_applied_once(cluster: Cluster) -> None:
    duplicates_before = metrics.value(metrics.UPDATES, outcome="duplicate")
    updates = [await cluster.queued(user, "/help") for user in (ALICE, WANG, ALICE, WANG)]

    for update in updates:
        # the first delivery and three redeliveries racing it, spread over both instances
        statuses = await post_everywhere(cluster.http, [*cluster.urls, *cluster.urls], update)
        assert statuses == [200, 200, 200, 200]

    for user in (ALICE, WANG):
        helps = [m for m in await cluster.emu.bot_messages(user) if "/book" in (m.get("text") or "")]
        assert len(helps) == 2, user
    async with cluster.a.app.db.sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(ProcessedUpdate)) == 4
    assert metrics.value(metrics.UPDATES, outcome="duplicate") == duplicates_before + 12


async def test_a_booking_across_both_instances_then_each_task_message_exactly_once(cluster: Cluster) -> None:
    h = cluster.harness()
    async with WebhookPusher(cluster.server.state, cluster.urls) as pusher:
        summary = await english_to_summary(h)
        assert "Budget review" in summary["text"]
        done = await h.click(ALICE, "Confirm", "Booked")
        assert await pusher.drained()
    assert "is confirmed" in done["text"]
    # the dialog hopped between the instances at every step: its state lives in Redis
    assert not [d for d in pusher.deliveries if not d.accepted]
    targets = [d.target for d in pusher.deliveries]
    assert len(targets) >= 14
    assert targets == [cluster.urls[i % 2] for i in range(len(targets))]

    db = cluster.a.app.db
    async with db.sessionmaker() as session:
        bookings = (await session.scalars(select(Booking))).all()
        assert [b.status for b in bookings] == [BookingStatus.confirmed]
        booking = bookings[0]
        moments = sorted(set((await session.scalars(select(Task.push_at))).all()))
    assert moments, "the booking planned no tasks"

    # every task timer comes due while both instances tick and send
    for moment in [*moments, booking.end_at + timedelta(hours=3)]:
        if moment > cluster.clock.now():
            cluster.clock.set(moment)
        await cluster.quiet()

    async with db.sessionmaker() as session:
        tasks = (await session.scalars(select(Task).order_by(Task.id))).all()
        rows = (await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))).all()
    pushed = [t for t in tasks if t.pushed_at is not None]
    assert pushed, "no task was pushed"
    teams = {team.id: team.chat_id for team in cluster.site.teams}

    # each pushed task's card is in its team's group exactly once
    for task in pushed:
        chat = teams[task.team_id]
        assert chat is not None, task.team_id  # a team that is given tasks has a group
        texts = [m.get("text") or "" for m in await cluster.emu.bot_messages(chat)]
        cards = [t for t in texts if t.split("\n", 1)[0].endswith(f"· #{task.id}")]
        assert len(cards) == 1, (task.id, task.team_id, cards)

    # and no outbox row reached Telegram twice: every chat the outbox alone writes to holds
    # exactly one message per sent row, and no two of them are the same text
    sent_per_chat = Counter(r.chat_id for r in rows if r.kind == "send" and r.status == SENT)
    assert sent_per_chat, "the outbox sent nothing"
    for chat_id, sent in sent_per_chat.items():
        if chat_id == ALICE:  # her dialog's own windows are sent directly by the handlers
            continue
        texts = [m.get("text") or "" for m in await cluster.emu.bot_messages(chat_id)]
        assert len(texts) == sent, (chat_id, len(texts), sent)
        assert len(set(texts)) == len(texts), chat_id
    assert {r.leased_by for r in rows if r.status == SENT} <= {"a", "b"}


async def test_a_second_live_instance_with_the_same_name_is_refused() -> None:
    from redis.asyncio import Redis

    async with redis_prefix() as prefix:
        redis = Redis.from_url(REDIS_URL)
        try:
            first = InstanceNameLease(redis, prefix, "same")
            await first.acquire(wait=0)
            second = InstanceNameLease(redis, prefix, "same")
            with pytest.raises(InstanceNameTaken, match="INSTANCE_NAME"):
                await second.acquire(wait=0)
            await first.release()
            await second.acquire(wait=0)  # free again once the first one stopped
            await second.release()
        finally:
            await redis.aclose()


async def test_an_unquoted_answer_is_taken_by_the_other_instance(cluster: Cluster) -> None:
    """The organiser presses "Add a comment" on one instance and types the comment, unquoted, on
    the other: the pending prompt lives in Redis, not in either process."""
    h = cluster.harness()
    await book(h, h.at(0, 14), 60, requester=ALICE, department="office", title="Board meeting")
    cluster.clock.set(h.at(0, 15, 1))
    await run_clock_jobs(cluster.a.app.jobs)  # the meeting-ended follow-up
    await cluster.quiet()
    request = await cluster.emu.wait_for_message(ALICE, "How was our service", since=0, timeout=10)

    async with WebhookPusher(cluster.server.state, cluster.urls) as pusher:
        since = await cluster.emu.current_seq()
        await cluster.emu.click_button(ALICE, ALICE, request["message_id"], callback_data(request, "5"))
        thanked = await cluster.emu.wait_for_message(
            ALICE, "You rated the service 5/5", since=since, timeout=10
        )
        press = await cluster.emu.click_button(
            ALICE, ALICE, thanked["message_id"], callback_data(thanked, "c")
        )
        await cluster.emu.wait_for_message(ALICE, "your comment", since=thanked["seq"], timeout=10)
        comment = await cluster.emu.send_message(ALICE, "Great tea & service")
        await cluster.emu.wait_for_message(
            ALICE, "Your comment: Great tea & service", since=since, timeout=10
        )
        assert await pusher.drained()
    handled_by = {d.update_id: d.target for d in pusher.deliveries if d.accepted}
    assert handled_by[press["update_id"]] != handled_by[comment["update_id"]]


def callback_data(message: dict[str, Any], ending: str) -> str:
    """The data of the message's button whose data ends with ``:<ending>``."""
    for row in message["reply_markup"]["inline_keyboard"]:
        for button in row:
            if str(button.get("callback_data", "")).endswith(f":{ending}"):
                return str(button["callback_data"])
    raise AssertionError(f"no button ending with :{ending}")
