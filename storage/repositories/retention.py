"""Removing finished records after the site's retention, one small batch per call.

Each method deletes one batch and says where the next one starts; the caller runs each
batch in a transaction of its own (bot/jobs/retention.py), so the database's write lock is
never held for more than a batch. Batches are ranges of the primary key: a range is found
through the key's own index whatever the table's size, and rows are numbered in the order
they were written, so the old rows are the first ranges and the walk stops at the first
range that holds a row still within the retention.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, delete, exists, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.database import refresh_statistics
from storage.models import OutboxMessage, ProcessedUpdate, TaskEvent, TaskMessage

OUTBOX_FINISHED = ("sent", "merged", "applied", "failed", "dropped")
"""Outbox rows nothing will read again once old: pending and sending rows are never removed."""


@dataclass(frozen=True)
class Batch:
    deleted: int
    next_start: int | None
    """Where the next batch starts (the first id after this range: gaps left by earlier
    runs are skipped); None: nothing older than the retention is left."""


def _count(result: Any) -> int:
    return int(result.rowcount or 0)


class RetentionRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def first_outbox_id(self) -> int | None:
        return await self.session.scalar(select(func.min(OutboxMessage.id)))

    async def prune_outbox(self, start: int, size: int, before: datetime) -> Batch:
        """Finished outbox rows with ids in [start, start + size) queued before ``before``,
        and the task links to them (a link to a removed row could only ask for an edit of a
        message that is too old to matter)."""
        end = start + size
        in_range = and_(OutboxMessage.id >= start, OutboxMessage.id < end)
        deleted = _count(
            await self.session.execute(
                delete(OutboxMessage)
                .where(in_range, OutboxMessage.created_at < before)
                .where(OutboxMessage.status.in_(OUTBOX_FINISHED))
                .execution_options(synchronize_session=False)
            )
        )
        if deleted:
            await self.session.execute(
                delete(TaskMessage)
                .where(TaskMessage.outbox_id >= start, TaskMessage.outbox_id < end)
                .where(~exists().where(OutboxMessage.id == TaskMessage.outbox_id))
                .execution_options(synchronize_session=False)
            )
        newer = await self.session.scalar(
            select(exists().where(in_range, OutboxMessage.created_at >= before))
        )
        following = await self.session.scalar(
            select(func.min(OutboxMessage.id)).where(OutboxMessage.id >= end)
        )
        return Batch(deleted, None if newer else following)

    async def first_event_id(self) -> int | None:
        return await self.session.scalar(select(func.min(TaskEvent.id)))

    async def prune_task_events(self, start: int, size: int, before: datetime) -> Batch:
        """Task events with ids in [start, start + size) recorded before ``before``."""
        end = start + size
        in_range = and_(TaskEvent.id >= start, TaskEvent.id < end)
        deleted = _count(
            await self.session.execute(
                delete(TaskEvent)
                .where(in_range, TaskEvent.at < before)
                .execution_options(synchronize_session=False)
            )
        )
        newer = await self.session.scalar(select(exists().where(in_range, TaskEvent.at >= before)))
        following = await self.session.scalar(select(func.min(TaskEvent.id)).where(TaskEvent.id >= end))
        return Batch(deleted, None if newer else following)

    async def prune_processed_updates(self, size: int, before: datetime) -> Batch:
        """The ``size`` oldest update ids handled before ``before`` (read by
        ``ix_processed_updates_at``: Telegram's update ids are not in the order of ``at``
        across a webhook's parallel deliveries, the index is)."""
        oldest = (
            select(ProcessedUpdate.update_id)
            .where(ProcessedUpdate.at < before)
            .order_by(ProcessedUpdate.at)
            .limit(size)
        )
        deleted = _count(
            await self.session.execute(
                delete(ProcessedUpdate)
                .where(ProcessedUpdate.update_id.in_(oldest))
                .execution_options(synchronize_session=False)
            )
        )
        return Batch(deleted, 0 if deleted == size else None)

    async def refresh_statistics(self) -> None:
        """Keep SQLite's planner statistics current (PostgreSQL's autovacuum does it there)."""
        await refresh_statistics(await self.session.connection(), sqlite_only=True)
