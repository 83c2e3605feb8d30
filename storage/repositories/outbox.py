"""Outbox rows: written in the transaction that causes them, delivered by the sender."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import OutboxMessage


def outbox_row(
    *,
    chat_id: int,
    text: str,
    now: datetime,
    reply_markup: list[Any] | None = None,
    kind: str = "send",
    edit_of_id: int | None = None,
    mergeable: bool = False,
    merge_text: str | None = None,
    dedupe_key: str | None = None,
) -> dict[str, Any]:
    """The values of a pending outbox row."""
    return {
        "chat_id": chat_id,
        "kind": kind,
        "text": text,
        "reply_markup": reply_markup,
        "edit_of_id": edit_of_id,
        "mergeable": mergeable and merge_text is not None,
        "merge_text": merge_text,
        "dedupe_key": dedupe_key,
        "status": "pending",
        "attempts": 0,
        "not_before": now,
        "created_at": now,
    }


class OutboxRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, **fields: Any) -> OutboxMessage | None:
        """Queue one message (see :func:`outbox_row`); None when a message with the same dedupe
        key was queued before."""
        (row_id,) = await self.add_many([outbox_row(**fields)])
        return None if row_id is None else await self.session.get(OutboxMessage, row_id)

    async def add_many(self, rows: Sequence[dict[str, Any]]) -> list[int | None]:
        """Queue these rows (values of :func:`outbox_row`) with a few statements in all; the id
        of each row, None where its dedupe key was queued before (or earlier in ``rows``)."""
        taken = await self._taken([row["dedupe_key"] for row in rows if row["dedupe_key"] is not None])
        fresh: list[int] = []
        for index, row in enumerate(rows):
            key = row["dedupe_key"]
            if key is None or key not in taken:
                fresh.append(index)
                if key is not None:
                    taken.add(key)
        ids: list[int | None] = [None] * len(rows)
        if not fresh:
            return ids
        values = [rows[index] for index in fresh]
        if self.session.get_bind().dialect.name == "postgresql":
            result = await self.session.execute(
                insert(OutboxMessage).returning(OutboxMessage.id, sort_by_parameter_order=True), values
            )
            written = list(result.scalars().all())
        else:
            # SQLite cannot return the ids of a multi-row insert in order; but every write
            # transaction there holds the database's write lock (BEGIN IMMEDIATE), so the new
            # rows are the ones above the largest id before the insert, in insertion order
            before = await self.session.scalar(select(func.max(OutboxMessage.id))) or 0
            await self.session.execute(insert(OutboxMessage), values)
            written = list(
                (
                    await self.session.scalars(
                        select(OutboxMessage.id).where(OutboxMessage.id > before).order_by(OutboxMessage.id)
                    )
                ).all()
            )
        if len(written) != len(values):
            raise RuntimeError(f"outbox insert wrote {len(written)} rows for {len(values)}")
        for index, row_id in zip(fresh, written, strict=True):
            ids[index] = row_id
        return ids

    async def _taken(self, keys: Sequence[str]) -> set[str]:
        """Which of these dedupe keys a queued row has already."""
        taken: set[str] = set()
        for first in range(0, len(keys), 500):
            chunk = keys[first : first + 500]
            found = await self.session.scalars(
                select(OutboxMessage.dedupe_key).where(OutboxMessage.dedupe_key.in_(chunk))
            )
            taken.update(key for key in found if key is not None)
        return taken
