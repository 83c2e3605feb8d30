"""Moving the sandbox's time: every timer and clock job on the way fires at its own moment.

A mixin of :class:`bot.sandbox.runtime.Sandbox`, which owns the state it reads (the bot, its
database, the clock, the event hub); here is only how a move walks from one moment to the next.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, create_async_engine

from bot.app import App
from bot.sandbox.common import JSON, EventHub, SandboxError
from bot.services.clock import OffsetClock
from bot.site import SiteConfig

log = logging.getLogger(__name__)

MAX_MOVE = timedelta(days=31)
MAX_TIMER_ROUNDS = 50
MAX_STEPS = 1000
# How long (real time) one clock move may wait for the sender to keep up with its timers.
DRAIN_BUDGET = timedelta(seconds=20)
CLOCK_ACTIONS = ("next_task", "forward", "tomorrow_17")
BOT_CLOCK_JOBS = "clock_jobs"
"""The id a clock move reports for the bot's own clock jobs (see :func:`bot.jobs.run_clock_jobs`)."""


class ClockMoves:
    """The sandbox's time: what it shows, what is planned next, and moving it forward."""

    # the state of the Sandbox this is mixed into
    site: SiteConfig
    clock: OffsetClock
    hub: EventHub
    app: App | None
    _lock: asyncio.Lock
    _database: Path | None
    _reader: AsyncEngine | None

    def clock_state(self) -> JSON:
        now = self.clock.now()
        return {
            "now": now.isoformat(),
            "now_ms": int(now.timestamp() * 1000),
            "zone": self.site.site.timezone,
            "local": now.astimezone(self.site.zone).strftime("%Y-%m-%d %H:%M"),
            "offset_seconds": self.clock.offset.total_seconds(),
        }

    def _read_only(self) -> AsyncEngine | None:
        """The bot's database, read-only at the driver level: the sandbox never writes it."""
        if self.app is None or self._database is None:
            return None
        if self._reader is None:
            self._reader = create_async_engine(f"sqlite+aiosqlite:///file:{self._database}?mode=ro&uri=true")
        return self._reader

    async def next_task_at(self, after: datetime | None = None) -> datetime | None:
        """The earliest task timer (``tasks.next_at``) ahead of ``after`` (the sandbox's time)."""
        from storage.models import Task

        reader = self._read_only()
        if reader is None:
            return None
        query = (
            select(Task.next_at)
            .where(
                Task.next_at.is_not(None), Task.next_at > (after if after is not None else self.clock.now())
            )
            .order_by(Task.next_at)
            .limit(1)
        )
        try:
            async with reader.connect() as connection:
                value = (await connection.execute(query)).scalar_one_or_none()
        except SQLAlchemyError as exc:  # e.g. the tasks table is not there (yet)
            log.debug("no task timers to read: %s", exc)
            return None
        return value.astimezone(UTC) if value is not None else None

    async def next_task_in_a_later_minute(self) -> datetime | None:
        """What "Next task" moves to: the first timer in a minute after the current one. A
        timer later in this same minute is run on the way; stopping at it would leave the
        clock showing the same minute again."""
        now = self.clock.now()
        this_minute = now.replace(second=0, microsecond=0)
        return await self.next_task_at(this_minute + timedelta(minutes=1) - timedelta(microseconds=1))

    async def next_clock_job_at(self, after: datetime) -> datetime | None:
        """When one of the bot's clock jobs next has work (:func:`bot.jobs.next_clock_job_at`):
        the digest, the weekly briefing, the monthly statements, a meeting's end (after-care), a
        Check in prompt or a no-show release, an approval's reminder or escalation."""
        from bot.jobs import next_clock_job_at

        reader = self._read_only()
        if reader is None:
            return None
        try:
            async with AsyncSession(reader) as session:
                return await next_clock_job_at(session, self.site, after)
        except SQLAlchemyError as exc:  # e.g. the bookings table is not there (yet)
            log.debug("no clock job moments to read: %s", exc)
            return None

    async def move_clock(self, action: str, minutes: float | None = None) -> JSON:
        """Move the sandbox's time forward as if it had passed: every timer on the way (task
        timers, clock jobs) fires at its own moment, in order, then the clock stops at the
        target. A plain jump would make each of them look late, as after a bot outage."""
        async with self._lock:
            if self.app is None:
                raise SandboxError(503, "not_running", "the sandbox is not running")
            before = self.clock.now()
            if action == "next_task":
                target = await self.next_task_in_a_later_minute()
                if target is None:
                    raise SandboxError(409, "nothing_planned", "no task timer is ahead of the sandbox's time")
            elif action == "forward":
                if minutes is None or not 0 < minutes <= MAX_MOVE.total_seconds() / 60:
                    raise SandboxError(400, "bad_minutes", "minutes must be more than 0 and at most 31 days")
                target = before + timedelta(minutes=minutes)
            elif action == "tomorrow_17":
                local = before.astimezone(self.site.zone)
                day = local.date() + timedelta(days=1)
                target = datetime.combine(day, time(17, 0), tzinfo=self.site.zone).astimezone(UTC)
            else:
                raise SandboxError(400, "bad_action", f"action must be one of {', '.join(CLOCK_ACTIONS)}")
            if target - before > MAX_MOVE:
                raise SandboxError(400, "too_far", "the sandbox's time moves at most 31 days at once")
            ran = await self._advance_to(max(target, before))
            state = self.clock_state()
        self.hub.publish({"type": "sandbox_clock", "clock": state})
        return {**state, "moved_from": before.isoformat(), **ran}

    async def _advance_to(self, target: datetime) -> JSON:
        totals: JSON = {"steps": 0, "claimed": 0, "sent": 0, "jobs": []}
        loop = asyncio.get_running_loop()
        drain_until = loop.time() + DRAIN_BUDGET.total_seconds()
        # what is due already (a booking just made) goes first, at the time it is due
        self._add(totals, await self._run_timers())
        totals["sent"] += await self._drain_outbox(drain_until)
        for _ in range(MAX_STEPS):
            now = self.clock.now()
            timer = await self.next_task_at()
            jobs, job_time = await self._next_clock_jobs(now)
            moments = [m for m in (timer, job_time) if m is not None and m <= target]
            if not moments:
                break
            moment = min(moments)
            self.clock.set(moment)
            if job_time is not None and job_time <= moment:
                totals["jobs"].extend(await self._run_jobs(jobs))
            self._add(totals, await self._run_timers())
            totals["sent"] += await self._drain_outbox(drain_until)
        else:
            log.warning("sandbox: stopped after %s timer steps on the way to %s", MAX_STEPS, target)
        if target > self.clock.now():
            self.clock.set(target)
        self._add(totals, await self._run_timers())
        totals["sent"] += await self._drain_outbox(drain_until)
        return totals

    async def _drain_outbox(self, until: float) -> int:
        """Let what this moment produced go out before the clock moves on, so each message
        carries its own moment. The sender paces each chat by real seconds (Telegram's
        limits); past ``until`` (loop time) the rest goes out later, as it would after a burst."""
        app = self.app
        assert app is not None
        send = _optional(app.workers, "send_pending")
        ready_in = _optional(getattr(app.workers, "sender", None), "next_ready_in")
        if send is None or ready_in is None:
            return 0
        loop = asyncio.get_running_loop()
        sent = 0
        while True:
            sent += _count(await _safely(send))
            wait = await _safely(ready_in)
            remaining = until - loop.time()
            if wait is None or remaining <= 0:
                return sent
            await asyncio.sleep(min(max(float(wait), 0.02), remaining))

    @staticmethod
    def _add(totals: JSON, ran: JSON) -> None:
        totals["steps"] += 1
        totals["claimed"] += ran["claimed"]
        totals["sent"] += ran["sent"]

    async def _run_timers(self) -> JSON:
        """What the background loops would do next, now: the task timers (``tick_once``) and
        the outbox (``send_pending``), until neither has anything left at this moment."""
        app = self.app
        assert app is not None
        tick = _optional(app.workers, "tick_once")
        send = _optional(app.workers, "send_pending")
        claimed_total = sent_total = 0
        for _ in range(MAX_TIMER_ROUNDS):
            claimed = await _safely(tick)
            sent = await _safely(send)
            claimed_total += _count(claimed)
            sent_total += _count(sent)
            if not claimed and not sent:
                break
        return {"claimed": claimed_total, "sent": sent_total}

    async def _next_clock_jobs(self, after: datetime) -> tuple[list[ClockJob], datetime | None]:
        """The clock jobs due first after ``after``, and when. APScheduler calls the bot's jobs
        every few real seconds and fires cron jobs by the real clock; the sandbox runs them
        itself at their moments of its own time: the bot's (:func:`bot.jobs.run_clock_jobs`)
        when one of them has work (:meth:`next_clock_job_at`), any cron job at its time."""
        from apscheduler.triggers.cron import CronTrigger

        from bot.jobs import run_clock_jobs

        app = self.app
        assert app is not None
        candidates: list[tuple[datetime, ClockJob]] = []
        bot_jobs_at = await self.next_clock_job_at(after)
        if bot_jobs_at is not None:
            jobs = app.jobs
            candidates.append((bot_jobs_at, ClockJob(BOT_CLOCK_JOBS, lambda: run_clock_jobs(jobs))))
        for job in app.scheduler.get_jobs():
            if not isinstance(job.trigger, CronTrigger):
                continue
            fire = job.trigger.get_next_fire_time(None, after.astimezone(self.site.zone))
            if fire is None or fire <= after:
                continue
            candidates.append((fire.astimezone(UTC), ClockJob(job.id, _scheduled_call(job))))
        if not candidates:
            return [], None
        earliest = min(moment for moment, _ in candidates)
        return [job for moment, job in candidates if moment == earliest], earliest

    async def _run_jobs(self, jobs: list[ClockJob]) -> list[str]:
        ran: list[str] = []
        for job in jobs:
            try:
                result = job.call()
                if inspect.isawaitable(result):
                    await result
                ran.append(job.id)
            except Exception:
                log.exception("sandbox: clock job %s failed", job.id)
        return ran


@dataclass(frozen=True)
class ClockJob:
    """A job a clock move runs at its moment: its id (reported back) and how to run it."""

    id: str
    call: Callable[[], Any]


def _scheduled_call(job: Any) -> Callable[[], Any]:
    """Call an APScheduler job as its scheduler would."""
    return lambda: job.func(*job.args, **job.kwargs)


def _optional(target: object, name: str) -> Callable[[], Awaitable[Any]] | None:
    method = getattr(target, name, None)
    return method if callable(method) else None


async def _safely(call: Callable[[], Awaitable[Any]] | None) -> Any:
    if call is None:
        return None
    try:
        return await call()
    except Exception:
        log.exception("sandbox: running the bot's timers failed")
        return None


def _count(value: Any) -> int:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    with contextlib.suppress(TypeError):
        return len(value)
    return 1 if value else 0
