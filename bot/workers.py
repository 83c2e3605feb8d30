"""What runs beside the update handlers: task planning hook, the timer tick and the sender.

* :meth:`Workers.planner` is the booking service's planning hook (same transaction).
* :meth:`Workers.tick_once` claims the task timers that came due (``tasks.next_at``), takes
  their steps (push, remind, escalate) and queues the messages, all in one transaction per
  batch; it also moves bookings to in progress / finished.
* :meth:`Workers.send_pending` delivers the outbox (bot/sender.py).
* :meth:`Workers.start_loops` runs both as asyncio tasks until :meth:`Workers.stop`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field
from datetime import timedelta

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError
from aiogram.utils.i18n import I18n
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy.ext.asyncio import AsyncSession

import bot.render.tasks  # noqa: F401  (registers the task renderers)
from bot.commands import set_command_menus
from bot.jobs import register_clock_jobs  # issue 6
from bot.notices import NoticeDelivery
from bot.outgoing import queue
from bot.send_budget import SharedSendBudget
from bot.sender import Sender
from bot.services.clock import Clock
from bot.services.escalation import TaskTimers, TickResult
from bot.services.planning import TaskPlanner
from bot.services.types import BookingView, Notice
from bot.settings import Settings
from bot.site import SiteConfig
from storage.database import Database

log = logging.getLogger(__name__)

TICK_BATCH = 200
"""Tasks per tick transaction. A batch's messages are written with a few statements, so a
batch of 200 takes ~70 ms on SQLite (2 vCPU): short enough that a press waiting for the write
lock during a catch-up is not kept long, long enough that the fixed cost per batch is small."""


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

    def __post_init__(self) -> None:
        self.planning = TaskPlanner(self.site, self.clock)
        late_after = timedelta(seconds=max(5.0, 3 * self.settings.tick_seconds))
        self.timers = TaskTimers(self.site, self.clock, self.settings.instance_name, late_after)
        self.sender = Sender(
            self.bot, self.db, self.clock, self.site, self.delivery, self.settings, budget=self.send_budget
        )

    async def planner(
        self, session: AsyncSession, booking: BookingView, previous: BookingView | None
    ) -> list[Notice]:
        """Plan (or re-plan) a booking's tasks inside the booking's own transaction.

        Edits of messages already showing tasks are queued here; what each team is told is
        returned for the booking service to deliver with its own notices.
        """
        outcome = await self.planning.plan(session, booking, previous)
        await queue(session, self.delivery, outcome.outgoing)
        if outcome.outgoing:
            self.wake.set()
        return outcome.notices

    async def tick_once(self) -> int:
        """One claim-and-enqueue pass at ``clock.now()``: the number of task steps taken."""
        steps = 0
        # bookings move on in a transaction of their own: one that also held task locks could
        # deadlock (on PostgreSQL) with a booking change waiting for those tasks
        async with self.db.transaction() as session:
            await self.timers.progress_bookings(session, TickResult())
        while True:
            async with self.db.transaction() as session:
                result = await self.timers.tick(session, limit=TICK_BATCH)
                await queue(session, self.delivery, result.outgoing)
            steps += result.steps
            if result.claimed < TICK_BATCH:
                break
        if steps:
            self.wake.set()
        return steps

    async def send_pending(self) -> int:
        """One sender pass: deliver what may be delivered now; the number sent (or edited)."""
        return await self.sender.send_pending()

    async def prepare(self) -> None:
        released = await self.sender.outbox.release_own()
        if released:
            log.info("%s outbox rows left in flight by the last run go out again", released)
        try:
            await set_command_menus(self.bot, self.i18n)
        except TelegramAPIError as error:
            log.warning("could not set the command menus: %s", error)

    def schedule(self, scheduler: AsyncIOScheduler) -> None:
        """Clock jobs (digests, briefings) go here; task timers live in the database."""
        register_clock_jobs(scheduler, self)  # issue 6: digest, weekly briefing, after-care

    def start_loops(self) -> list[asyncio.Task[None]]:
        self.stopping.clear()
        return [
            asyncio.create_task(self._tick_loop(), name="huiwu-tick"),
            asyncio.create_task(self._send_loop(), name="huiwu-sender"),
        ]

    async def _pause(self, event: asyncio.Event, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(event.wait(), timeout=max(0.0, seconds))

    async def _tick_loop(self) -> None:
        while not self.stopping.is_set():
            try:
                await self.tick_once()
            except Exception:
                log.exception("tick failed; trying again")
            await self._pause(self.stopping, self.settings.tick_seconds)

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
