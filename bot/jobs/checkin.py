"""Check-in (docs/product.md §2): send the Check in buttons that came due and release the
meetings nobody checked in to by their deadline (bot/services/checkin.py). The state is in the
bookings' rows; this job is only the trigger, so a restart or a second instance loses and
doubles nothing."""

from __future__ import annotations

import logging

from bot.jobs.context import JobContext
from bot.services.checkin import DUE_BATCH, CheckInService

log = logging.getLogger(__name__)

CHECKIN_SECONDS = 15.0
"""How often the scheduler calls :func:`run_checkin`: a prompt or a release is at most this late."""
MAX_BATCHES = 20


async def run_checkin(jobs: JobContext) -> int:
    """Prompt and release what came due, a batch per transaction; the messages queued."""
    service = CheckInService(jobs.site, jobs.booking)
    queued = 0
    for _ in range(MAX_BATCHES):
        async with jobs.db.transaction() as session:
            result, looked_at = await service.run(session, DUE_BATCH)
            queued += len(await jobs.delivery.deliver(session, result.notices))
        if result.prompted or result.released:
            log.info("check-in: %s prompted, %s released as no-shows", result.prompted, result.released)
        if looked_at < DUE_BATCH:
            break
    return queued
