"""Clock jobs: thin; open a transaction, call a service, deliver its notices.

Every job asks the injected clock whether something is due and claims it in the database,
so the scheduler only needs to call them often: a run that finds nothing to do costs one
query, a restart or a second instance sends nothing twice, and a moved clock (tests, the
sandbox) is followed at the next call.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy.ext.asyncio import AsyncSession

from bot.jobs.context import JobContext
from bot.services.checkin import next_checkin_moment
from bot.services.clock import ManualClock
from bot.services.statements import next_statement_moment
from bot.site import SiteConfig
from storage.repositories.aftercare import AftercareRepository
from storage.repositories.approvals import ApprovalRepository

log = logging.getLogger(__name__)

AFTERCARE_SECONDS = 15.0
DIGEST_SECONDS = 30.0
RETENTION_SECONDS = 3600.0
RETENTION_FIRST_AFTER = timedelta(minutes=5)
"""The clean-up leaves the first minutes after a start to a restart's catch-up."""
MAX_DAYS_AHEAD = 370
"""How far :func:`next_clock_job_at` looks for a digest or weekly day (a year and a bit)."""


async def run_clock_jobs(jobs: JobContext) -> int:
    """Every clock job once, now (the e2e tests call this after moving the clock)."""
    from bot.jobs.aftercare import run_aftercare
    from bot.jobs.approvals import run_approvals
    from bot.jobs.checkin import run_checkin
    from bot.jobs.digest import run_digest
    from bot.jobs.statements import run_statements
    from bot.jobs.weekly import run_weekly

    return (
        await run_approvals(jobs)
        + await run_checkin(jobs)
        + await run_aftercare(jobs)
        + await run_digest(jobs)
        + await run_weekly(jobs)
        + await run_statements(jobs)
    )


async def next_clock_job_at(session: AsyncSession, site: SiteConfig, after: datetime) -> datetime | None:
    """The first moment after ``after`` at which a clock job has something to do: the digest's
    time on a working day, the weekly briefing's, the monthly statements' day and time, a
    meeting's end (its after-care), a request's approval timer (reminder, escalation, its
    start), a meeting's check-in prompt or no-show release.

    The scheduler calls the jobs every few real seconds, which is enough for a clock that
    runs; a clock that jumps (the sandbox) runs them at these moments instead, so what they
    send carries its own time and does not come a few seconds after the jump."""
    moments = [
        _next_daily(site, after, site.digest.hour_minute, site.digest.is_working_day),
        _next_daily(
            site, after, site.weekly.hour_minute, lambda day: day.isoweekday() == site.weekly.weekday
        ),
        await AftercareRepository(session).next_meeting_end(after),
        await _next_approval_timer(session, after),
        await next_checkin_moment(session, site, after),
        next_statement_moment(site, after),
    ]
    found = [moment.astimezone(UTC) for moment in moments if moment is not None]
    return min(found, default=None)


async def _next_approval_timer(session: AsyncSession, after: datetime) -> datetime | None:
    """The first approval timer after ``after`` (one already due is taken by the next run of
    the jobs, whenever that is)."""
    return await ApprovalRepository(session).next_due(after)


def _next_daily(
    site: SiteConfig, after: datetime, hour_minute: tuple[int, int], wanted: Callable[[date], bool]
) -> datetime | None:
    """The first ``hour_minute`` (site zone) after ``after`` on a day that is ``wanted``."""
    day = after.astimezone(site.zone).date()
    for _ in range(MAX_DAYS_AHEAD):
        moment = datetime.combine(day, time(*hour_minute), tzinfo=site.zone)
        if moment > after and wanted(day):
            return moment
        day += timedelta(days=1)
    return None


def register_clock_jobs(scheduler: AsyncIOScheduler, jobs: JobContext) -> None:
    """The digest, the weekly briefing, the monthly statements (bot/jobs/statements.py), the
    after-care tick, the approvals that chase (bot/jobs/approvals.py) and the hourly clean-up
    (bot/jobs/retention.py).

    Not with a ManualClock: its time moves only when a test moves it, and the test then runs
    :func:`run_clock_jobs` itself, so nothing arrives in the middle of another test's checks.
    """
    if isinstance(jobs.clock, ManualClock):
        log.info("manual clock: the clock jobs run only when run_clock_jobs is called")
        return
    from bot.jobs.aftercare import run_aftercare
    from bot.jobs.approvals import APPROVALS_SECONDS, run_approvals
    from bot.jobs.checkin import CHECKIN_SECONDS, run_checkin
    from bot.jobs.digest import run_digest
    from bot.jobs.retention import run_retention
    from bot.jobs.statements import run_statements
    from bot.jobs.weekly import run_weekly

    first = datetime.now(scheduler.timezone)
    for job_id, function, seconds in (
        ("huiwu-aftercare", run_aftercare, max(AFTERCARE_SECONDS, jobs.settings.tick_seconds)),
        ("huiwu-approvals", run_approvals, max(APPROVALS_SECONDS, jobs.settings.tick_seconds)),
        ("huiwu-checkin", run_checkin, max(CHECKIN_SECONDS, jobs.settings.tick_seconds)),
        ("huiwu-digest", run_digest, DIGEST_SECONDS),
        ("huiwu-weekly", run_weekly, DIGEST_SECONDS),
        ("huiwu-statements", run_statements, DIGEST_SECONDS),
    ):
        scheduler.add_job(
            function,
            "interval",
            seconds=seconds,
            args=[jobs],
            id=job_id,
            replace_existing=True,
            max_instances=1,
            coalesce=True,
            misfire_grace_time=int(seconds),
            next_run_time=first,
        )
    scheduler.add_job(
        run_retention,
        "interval",
        seconds=RETENTION_SECONDS,
        args=[jobs],
        id="huiwu-retention",
        replace_existing=True,
        max_instances=1,
        coalesce=True,
        misfire_grace_time=int(RETENTION_SECONDS),
        next_run_time=first + RETENTION_FIRST_AFTER,
    )
