"""Approvals that chase: remind, escalate, and reject at its start every request waiting for
approval whose timer came due (bot/services/approvals.py). The timers are in the database;
this job is only the trigger, so a restart or a second instance loses and doubles nothing."""

from __future__ import annotations

import logging

from bot.jobs.context import JobContext
from bot.services.approval_chase import DUE_BATCH, ApprovalChaser

log = logging.getLogger(__name__)

APPROVALS_SECONDS = 15.0
"""How often the scheduler calls :func:`run_approvals`: a reminder is at most this late."""
MAX_BATCHES = 50
"""Batches one run takes at most (5000 requests); the next run goes on."""


async def run_approvals(jobs: JobContext) -> int:
    """Step every request whose timer came due, a batch per transaction; the messages queued."""
    chaser = ApprovalChaser(jobs.site, jobs.booking)
    queued = 0
    for _ in range(MAX_BATCHES):
        async with jobs.db.transaction() as session:
            result, due = await chaser.run(session, DUE_BATCH)
            queued += len(await jobs.delivery.deliver(session, result.notices))
        if result.reminded or result.escalated or result.expired:
            log.info(
                "approvals: %s reminded, %s escalated, %s rejected at their start",
                result.reminded,
                result.escalated,
                result.expired,
            )
        if due < DUE_BATCH:
            break
    return queued
