"""The monthly statement job (docs/product.md §5).

From the site's day and time of a month on (``[statements]``, default the 1st at 09:00), the
job claims last month once (``clock_runs``: ``statements`` + ``2026-11``) and queues, in the
same transaction, each department's statement for its contacts (the message with Accept /
Dispute, then the spreadsheet: two outbox rows each, like the weekly briefing's chart and
file) and the summary of every department for the supervisors. The ``statements`` rows it
writes keep the answers.
"""

from __future__ import annotations

import logging

from bot.jobs.context import JobContext
from bot.services.statements import statements_due

log = logging.getLogger(__name__)


async def run_statements(jobs: JobContext) -> int:
    """Queue last month's statements if they are due and not queued yet; the departments sent to."""
    month = statements_due(jobs.site, jobs.clock.now())
    async with jobs.db.read() as session:
        claimed = await jobs.statements.claimed(session, month)
    if claimed:
        return 0
    async with jobs.db.transaction() as session:
        sent, notices = await jobs.statements.queue(session, month)
        await jobs.delivery.deliver(session, notices)
    if sent:
        log.info("monthly statements %s queued for %s departments", month.label, sent)
    return sent
