"""The hourly clean-up: finished outbox rows, handled update ids and old task events go after
the site's retention (``[retention]``), in batches short enough that a press or the tick
waiting for the database never waits long (bot/services/retention.py)."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.jobs.context import JobContext
from bot.services.retention import BatchSize, PruneReport, cutoffs
from bot.site import Retention
from storage.database import Database
from storage.repositories.retention import Batch, RetentionRepository

log = logging.getLogger(__name__)

PAUSE_SECONDS = 0.05
"""Between two batches: a writer waiting for SQLite's lock (its busy handler sleeps and
retries) gets it before the next batch takes it again."""
BUDGET_SECONDS = 60.0
"""One run stops after this; the next run goes on where it stopped (a first run on a year of
records takes several)."""

Step = Callable[[AsyncSession, int, int], Awaitable[Batch]]


async def run_retention(jobs: JobContext) -> int:
    """One clean-up run now; the number of records removed."""
    report = await prune(jobs.db, jobs.site.retention, jobs.clock.now())
    if report.removed:
        log.info(
            "retention: %s outbox rows, %s update ids, %s task events removed in %s batches "
            "(longest %.0f ms)%s",
            report.outbox,
            report.processed_updates,
            report.task_events,
            report.batches,
            report.longest_batch * 1000,
            "" if report.finished else "; more next time",
        )
    return report.removed


async def prune(
    db: Database,
    retention: Retention,
    now: datetime,
    *,
    budget: float = BUDGET_SECONDS,
    pause: float = PAUSE_SECONDS,
    size: BatchSize | None = None,
) -> PruneReport:
    """Every table once, oldest records first, each batch in a transaction of its own."""
    limit = cutoffs(retention, now)
    report = PruneReport()
    deadline = time.monotonic() + budget
    sizer = size or BatchSize()

    async def walk(first: Callable[[RetentionRepository], Awaitable[int | None]], step: Step) -> int:
        async with db.read() as session:
            start = await first(RetentionRepository(session))
        removed = 0
        while start is not None:
            if time.monotonic() > deadline:
                report.finished = False
                break
            started = time.perf_counter()
            async with db.transaction() as session:
                batch = await step(session, start, sizer.rows)
            elapsed = time.perf_counter() - started
            report.record(elapsed)
            sizer.after(elapsed)
            removed += batch.deleted
            start = batch.next_start
            if start is not None:
                await asyncio.sleep(pause)
        return removed

    async def outbox(session: AsyncSession, start: int, rows: int) -> Batch:
        return await RetentionRepository(session).prune_outbox(start, rows, limit.outbox)

    async def events(session: AsyncSession, start: int, rows: int) -> Batch:
        return await RetentionRepository(session).prune_task_events(start, rows, limit.task_events)

    async def updates(session: AsyncSession, _start: int, rows: int) -> Batch:
        return await RetentionRepository(session).prune_processed_updates(rows, limit.processed_updates)

    async def from_zero(_repo: RetentionRepository) -> int | None:
        return 0

    report.outbox = await walk(RetentionRepository.first_outbox_id, outbox)
    report.processed_updates = await walk(from_zero, updates)
    report.task_events = await walk(RetentionRepository.first_event_id, events)
    async with db.transaction() as session:
        await RetentionRepository(session).refresh_statistics()
    return report
