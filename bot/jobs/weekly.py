"""The weekly briefing job.

The job claims the week once (``clock_runs``: ``weekly`` + the ISO week) and queues the
briefing for every supervisor and manager: two outbox rows each, the chart and the
spreadsheet (bot/render/weekly.py), with the dedupe keys ``weekly:<week>:<chat>:chart`` and
``…:workbook``. The sender sends them like any message, within Telegram's limits, and draws
them when it sends them, in the reader's language.
"""

from __future__ import annotations

import logging

from sqlalchemy.ext.asyncio import AsyncSession

from bot.delivery.notices import NoticeDelivery
from bot.jobs.context import JobContext
from bot.render.weekly import briefing_notices
from bot.services.clock import Clock
from bot.services.reports import IsoWeek, ReportService, weekly_due
from bot.site import Role, SiteConfig

log = logging.getLogger(__name__)

WEEKLY_ROLES = (Role.supervisor, Role.manager)


def weekly_recipients(site: SiteConfig) -> list[int]:
    return [person.id for person in site.people if set(person.roles) & set(WEEKLY_ROLES)]


async def queue_weekly(
    session: AsyncSession, site: SiteConfig, clock: Clock, delivery: NoticeDelivery, week: IsoWeek
) -> int:
    """Claim the week and queue its briefing for every supervisor and manager; people queued.

    A week without meetings is claimed and sends nothing: an empty chart and spreadsheet tell
    nobody anything (a fresh installation's first Friday, a holiday week).
    """
    reports = ReportService(site, clock)
    if not await reports.claim(session, week):
        return 0
    if not (await reports.week(session, week)).meetings:
        log.info("weekly briefing %s: no meetings that week, nothing sent", week.label)
        return 0
    people = weekly_recipients(site)
    notices = [
        notice
        for person in people
        for notice in briefing_notices(person, week.label, dedupe_key=f"weekly:{week.label}:{person}")
    ]
    await delivery.deliver(session, notices)
    return len(people)


async def run_weekly(jobs: JobContext) -> int:
    """Queue this week's briefing if it is due and not queued yet; the people it was queued for."""
    week = weekly_due(jobs.site, jobs.clock.now())
    async with jobs.db.read() as session:
        claimed = await jobs.reports.claimed(session, week)
    if claimed:
        return 0
    async with jobs.db.transaction() as session:
        queued = await queue_weekly(session, jobs.site, jobs.clock, jobs.delivery, week)
    if queued:
        log.info("weekly briefing %s queued for %s people", week.label, queued)
    return queued
