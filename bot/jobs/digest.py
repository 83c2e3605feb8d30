"""The daily digest job: at ``[digest] time`` on a working day, once (see bot/services/digest.py)."""

from __future__ import annotations

import logging
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from bot.delivery.notices import NoticeDelivery, Translations, language_of_chat
from bot.jobs.context import JobContext
from bot.render.digest import meetings_digest, team_digest
from bot.render.text import Reader
from bot.services.digest import DigestService, covered_days, digest_due, digest_recipients
from bot.services.dispatch import team_chats
from bot.services.types import Notice
from bot.services.visibility import Medium, audience_of_chat
from bot.site import SiteConfig

log = logging.getLogger(__name__)


async def digest_notices(
    session: AsyncSession, site: SiteConfig, service: DigestService, i18n: Translations, today: date
) -> list[Notice]:
    """Every part of every recipient's digest of ``today``, each part with its dedupe key."""
    days = covered_days(site, today)
    notices: list[Notice] = []
    meetings = await service.meetings(session, days)
    for person in digest_recipients(site):
        reader = Reader(i18n, await language_of_chat(session, site, person), site, service.clock.now())
        audience = await audience_of_chat(session, site, person, Medium.report)
        for index, text in enumerate(meetings_digest(reader, meetings, audience)):
            notices.append(
                Notice("digest_part", person, {"text": text}, dedupe_key=f"digest:{today}:{person}:{index}")
            )
    chats = await team_chats(session, site)
    for team in site.teams:
        chat_id = chats.get(team.id)
        if chat_id is None:
            continue
        tasks = await service.team_tasks(session, team.id, days)
        reader = Reader(i18n, await language_of_chat(session, site, chat_id), site, service.clock.now())
        for index, text in enumerate(team_digest(reader, team.id, tasks)):
            notices.append(
                Notice("digest_part", chat_id, {"text": text}, dedupe_key=f"digest:{today}:{chat_id}:{index}")
            )
    return notices


async def send_digest(
    session: AsyncSession,
    site: SiteConfig,
    service: DigestService,
    i18n: Translations,
    delivery: NoticeDelivery,
    today: date,
) -> int:
    notices = await digest_notices(session, site, service, i18n, today)
    return len(await delivery.deliver(session, notices))


async def run_digest(jobs: JobContext) -> int:
    """Queue today's digest if it is due and not sent yet; the number of messages queued."""
    today = digest_due(jobs.site, jobs.clock.now())
    if today is None:
        return 0
    service = jobs.digest
    async with jobs.db.transaction() as session:
        if not await service.claim(session, today):
            return 0
        queued = await send_digest(session, jobs.site, service, jobs.i18n, jobs.delivery, today)
    log.info("daily digest of %s: %s messages queued", today, queued)
    return queued
