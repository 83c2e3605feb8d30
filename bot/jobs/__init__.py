"""Clock jobs: thin; open a transaction, call a service, deliver its notices.

Every job asks the injected clock whether something is due and claims it in the database,
so the scheduler only needs to call them often: a run that finds nothing to do costs one
query, a restart or a second instance sends nothing twice, and a moved clock (tests, the
sandbox) is followed at the next call.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import TYPE_CHECKING

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.services.clock import ManualClock

if TYPE_CHECKING:
    from bot.workers import Workers

log = logging.getLogger(__name__)

AFTERCARE_SECONDS = 15.0
DIGEST_SECONDS = 30.0


async def run_clock_jobs(workers: Workers) -> int:
    """Every clock job once, now (the e2e tests call this after moving the clock)."""
    from bot.jobs.aftercare import run_aftercare
    from bot.jobs.digest import run_digest
    from bot.jobs.weekly import run_weekly

    return await run_aftercare(workers) + await run_digest(workers) + await run_weekly(workers)


def register_clock_jobs(scheduler: AsyncIOScheduler, workers: Workers) -> None:
    """The digest, the weekly briefing (with its file deliveries) and the after-care tick.

    Not with a ManualClock: its time moves only when a test moves it, and the test then runs
    :func:`run_clock_jobs` itself, so nothing arrives in the middle of another test's checks.
    """
    if isinstance(workers.clock, ManualClock):
        log.info("manual clock: the clock jobs run only when run_clock_jobs is called")
        return
    from bot.jobs.aftercare import run_aftercare
    from bot.jobs.digest import run_digest
    from bot.jobs.weekly import run_weekly

    first = datetime.now(scheduler.timezone)
    for job_id, function, seconds in (
        ("huiwu-aftercare", run_aftercare, max(AFTERCARE_SECONDS, workers.settings.tick_seconds)),
        ("huiwu-digest", run_digest, DIGEST_SECONDS),
        ("huiwu-weekly", run_weekly, DIGEST_SECONDS),
    ):
        scheduler.add_job(
            function,
            "interval",
            seconds=seconds,
            args=[workers],
            id=job_id,
            replace_existing=True,
            max_instances=1,
            coalesce=True,
            misfire_grace_time=int(seconds),
            next_run_time=first,
        )
