"""The clock jobs' registration with APScheduler."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import cast
from zoneinfo import ZoneInfo

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.jobs import register_clock_jobs
from bot.jobs.context import JobContext
from bot.services.clock import ManualClock, OffsetClock


def _workers(clock: object) -> JobContext:
    """A stand-in with only what the registration reads: the clock and the tick."""
    return cast(JobContext, SimpleNamespace(clock=clock, settings=SimpleNamespace(tick_seconds=1.0)))


def test_the_interval_jobs_have_stable_ids() -> None:
    scheduler = AsyncIOScheduler(timezone=ZoneInfo("Asia/Shanghai"))
    register_clock_jobs(scheduler, _workers(OffsetClock()))
    register_clock_jobs(scheduler, _workers(OffsetClock()))  # twice: replaced, not doubled
    jobs = {job.id: job for job in scheduler.get_jobs()}
    assert set(jobs) == {
        "huiwu-aftercare",
        "huiwu-approvals",
        "huiwu-checkin",
        "huiwu-digest",
        "huiwu-weekly",
        "huiwu-statements",
        "huiwu-retention",
    }
    assert all(job.max_instances == 1 and job.coalesce for job in jobs.values())
    assert jobs["huiwu-aftercare"].trigger.interval.total_seconds() == 15
    assert jobs["huiwu-approvals"].trigger.interval.total_seconds() == 15
    # the hourly clean-up leaves a start's first minutes to the timers' catch-up
    assert jobs["huiwu-retention"].trigger.interval.total_seconds() == 3600
    assert jobs["huiwu-retention"].next_run_time - jobs["huiwu-digest"].next_run_time >= timedelta(minutes=5)


def test_no_jobs_with_a_manual_clock() -> None:
    scheduler = AsyncIOScheduler(timezone=ZoneInfo("Asia/Shanghai"))
    register_clock_jobs(scheduler, _workers(ManualClock(datetime(2026, 12, 1, tzinfo=UTC))))
    assert scheduler.get_jobs() == []
