"""When meetings end: claim each once and start its after-care (see bot/services/aftercare.py)."""

from __future__ import annotations

import logging

from bot.jobs.context import JobContext
from bot.services.dispatch import team_chats

log = logging.getLogger(__name__)


async def run_aftercare(jobs: JobContext) -> int:
    """Follow up every meeting that ended and has no follow-up yet; the messages queued."""
    service = jobs.aftercare
    async with jobs.db.transaction() as session:
        notices = await service.claim_finished(session, await team_chats(session, jobs.site))
        queued = len(await jobs.delivery.deliver(session, notices))
    if queued:
        log.info("after-care: %s messages queued", queued)
    return queued
