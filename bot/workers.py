"""What runs beside the update handlers: task planning hook, the timer tick and the sender.

* :meth:`Workers.planner` is the booking service's planning hook (same transaction).
* :meth:`Workers.tick_once` claims the task timers that came due (``tasks.next_at``), takes
  their steps (push, remind, escalate) and queues the messages, all in one transaction per
  batch; it also moves bookings to in progress / finished.
* :meth:`Workers.send_pending` delivers the outbox (bot/delivery/sender.py).
* :meth:`Workers.start_loops` runs both as asyncio tasks until :meth:`Workers.stop`; the tick
  loop (:meth:`Workers.tick_loop`) sleeps until the earliest timer, woken early by planning.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession

import bot.render.tasks  # noqa: F401  (registers the task renderers)
from bot.delivery.budget import SharedSendBudget
from bot.delivery.notices import NoticeDelivery
from bot.delivery.queue import queue
from bot.delivery.sender import Sender
from bot.ops import metrics
from bot.services.clock import Clock, ManualClock
from bot.services.escalation import TaskTimers, TickResult
from bot.services.planning import TaskPlanner
from bot.services.types import BookingView, Notice
from bot.settings import Settings
from bot.site import SiteConfig
from bot.telegram.commands import offer_command_menus
from bot.telegram.gateway import TelegramGateway
from bot.telegram.i18n import I18n
from bot.telegram.runtime import Bot
from storage.database import Database
from storage.repositories.tasks import TaskRepository

log = logging.getLogger(__name__)

TIMER_FLOOR_SECONDS = 0.02
"""Shortest sleep of the tick loop: a timer already due after a tick is another instance's,
locked by it this moment; it is looked at again soon, without spinning."""
TIMER_SLACK_SECONDS = 0.002
"""Added to the sleep so the loop does not wake a hair before the timer and find nothing."""

TICK_BATCH = 500
"""Tasks per tick transaction. A batch is stepped and written with a few statements whatever
its size (bot/services/escalation.py), so each row costs tens of microseconds and a batch of
500 holds SQLite's write lock ~20–35 ms (2 vCPU): short for a press waiting behind a
catch-up, long enough that the fixed cost per batch (transaction, claim, chats) is small."""
CATCH_UP_BATCH = 2000
"""Tasks per tick transaction once a batch came back full (a backlog: after a downtime, a
burst): the fixed cost per batch is paid a quarter as often; SQLite's write lock is held
~60–90 ms a batch meanwhile."""
CATCH_UP_LOOPS_POSTGRESQL = 2
"""Catch-up transactions at once on PostgreSQL (each its own connection and batch)."""


@dataclass
class Workers:
    settings: Settings
    site: SiteConfig
    clock: Clock
    db: Database
    bot: Bot
    delivery: NoticeDelivery
    i18n: I18n
    send_budget: SharedSendBudget | None = None
    """Telegram's limits counted across instances (Redis); None: this process paces alone."""
    stopping: asyncio.Event = field(default_factory=asyncio.Event)
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    timers_moved: asyncio.Event = field(default_factory=asyncio.Event)
    """Set when a committed transaction planned or moved task timers: the tick loop, asleep
    until the earliest timer it knew of, looks again at once."""

    def __post_init__(self) -> None:
        self.planning = TaskPlanner(self.site, self.clock)
        late_after = timedelta(seconds=max(5.0, 3 * self.settings.tick_seconds))
        self.timers = TaskTimers(
            self.site, self.clock, self.settings.instance_name, late_after, counters=metrics
        )
        self.sender = Sender(
            TelegramGateway(self.bot),
            self.db,
            self.clock,
            self.site,
            self.delivery,
            self.settings,
            budget=self.send_budget,
            counters=metrics,
        )

    async def planner(
        self, session: AsyncSession, booking: BookingView, previous: BookingView | None
    ) -> list[Notice]:
        """Plan (or re-plan) a booking's tasks inside the booking's own transaction.

        Edits of messages already showing tasks are queued here; what each team is told is
        returned for the booking service to deliver with its own notices.
        """
        outcome = await self.planning.plan(session, booking, previous)
        self._wake_timers_after_commit(session)
        await queue(session, self.delivery, outcome.outgoing)
        if outcome.outgoing:
            self.wake.set()
        return outcome.notices

    def _wake_timers_after_commit(self, session: AsyncSession) -> None:
        """Wake the tick loop when this transaction commits: woken earlier, it would read the
        timers without the new ones and sleep past them."""
        event.listen(
            session.sync_session, "after_commit", lambda _session: self.timers_moved.set(), once=True
        )

    async def tick_once(self) -> int:
        """One claim-and-enqueue pass at ``clock.now()``: the number of task steps taken."""
        steps = 0
        # bookings move on in a transaction of their own: one that also held task locks could
        # deadlock (on PostgreSQL) with a booking change waiting for those tasks
        async with self.db.transaction() as session:
            await self.timers.progress_bookings(session, TickResult())
        claimed, steps = await self._tick_batch(TICK_BATCH)
        if claimed == TICK_BATCH:
            # a backlog (a restart after a downtime, a burst). PostgreSQL's claim skips rows
            # another transaction holds (FOR UPDATE SKIP LOCKED), so several catch-up loops
            # step disjoint batches at once, one preparing its batch while the server writes
            # another's; SQLite has one writer at a time, so one loop.
            loops = 1 if self.db.is_sqlite else CATCH_UP_LOOPS_POSTGRESQL
            steps += sum(await asyncio.gather(*(self._catch_up() for _ in range(loops))))
        if steps:
            self.wake.set()
        return steps

    async def _catch_up(self) -> int:
        steps = 0
        while True:
            claimed, took = await self._tick_batch(CATCH_UP_BATCH)
            steps += took
            if claimed < CATCH_UP_BATCH:
                return steps

    async def _tick_batch(self, limit: int) -> tuple[int, int]:
        """One claim-step-write transaction: (tasks claimed, steps taken)."""
        async with self.db.transaction() as session:
            result = await self.timers.tick(session, limit=limit)
            await queue(session, self.delivery, result.outgoing)
        return result.claimed, result.steps

    async def send_pending(self) -> int:
        """One sender pass: deliver what may be delivered now; the number sent (or edited)."""
        return await self.sender.send_pending()

    async def prepare(self) -> None:
        released = await self.sender.outbox.release_own()
        if released:
            log.info("%s outbox rows left in flight by the last run go out again", released)
        await offer_command_menus(self.bot, self.i18n)

    def start_loops(self) -> list[asyncio.Task[None]]:
        self.stopping.clear()
        return [
            asyncio.create_task(self.tick_loop(), name="huiwu-tick"),
            asyncio.create_task(self._send_loop(), name="huiwu-sender"),
        ]

    async def _pause(self, event: asyncio.Event, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(event.wait(), timeout=max(0.0, seconds))

    async def tick_loop(self) -> None:
        """Tick, then sleep until the earliest timer is due, a booking plans an earlier one
        (:attr:`timers_moved`) or ``tick_seconds`` passed, whichever comes first.

        The bound follows what no wake announces: a timer another instance or a script wrote,
        a clock moved forward. With a :class:`ManualClock` (tests) the loop ticks every
        ``tick_seconds``: its time only moves when a test moves it.
        """
        while not self.stopping.is_set():
            self.timers_moved.clear()
            wait = self.settings.tick_seconds
            try:
                await self.tick_once()
                wait = await self.until_next_timer()
            except Exception:
                log.exception("tick failed; trying again")
            if self.stopping.is_set():
                break
            await self._pause(self.timers_moved, wait)

    async def until_next_timer(self) -> float:
        """Real seconds the tick loop may sleep: until the earliest task timer, at most
        ``tick_seconds``, at least :data:`TIMER_FLOOR_SECONDS`."""
        bound = self.settings.tick_seconds
        if isinstance(self.clock, ManualClock):
            return bound
        async with self.db.read() as session:
            earliest = await TaskRepository(session).earliest_timer()
        if earliest is None:
            return bound
        # a clock that runs faster than real time (the timer benchmark's) says so in ``speed``
        speed = float(getattr(self.clock, "speed", 1.0))
        ahead = (earliest - self.clock.now()).total_seconds() / speed + TIMER_SLACK_SECONDS
        return min(bound, max(TIMER_FLOOR_SECONDS, ahead))

    async def _send_loop(self) -> None:
        while not self.stopping.is_set():
            self.wake.clear()
            wait = self.settings.sender_idle_seconds
            try:
                await self.send_pending()
                ready_in = await self.sender.next_ready_in()
                if ready_in is not None:
                    wait = min(max(ready_in, 0.02), 1.0)
            except Exception:
                log.exception("sender pass failed; trying again")
            if self.stopping.is_set():
                break
            await self._pause(self.wake, wait)

    async def stop(self) -> None:
        self.stopping.set()
        self.wake.set()
        self.timers_moved.set()
