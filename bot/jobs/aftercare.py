"""When meetings end: claim each once and start its after-care (see bot/services/aftercare.py)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from bot.services.aftercare import AftercareService
from bot.services.dispatch import team_chats

if TYPE_CHECKING:
    from bot.workers import Workers

log = logging.getLogger(__name__)


async def run_aftercare(workers: Workers) -> int:
    """Follow up every meeting that ended and has no follow-up yet; the messages queued."""
    service = AftercareService(workers.site, workers.clock)
    async with workers.db.transaction() as session:
        notices = await service.claim_finished(session, await team_chats(session, workers.site))
        queued = len(await workers.delivery.deliver(session, notices))
    if queued:
        log.info("after-care: %s messages queued", queued)
        workers.wake.set()
    return queued
