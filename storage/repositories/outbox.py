"""Outbox rows: written in the transaction that causes them, delivered by the sender."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import OutboxMessage


class OutboxRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(
        self,
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
    ) -> OutboxMessage | None:
        """Queue a message; None when a message with the same dedupe key was queued before."""
        if dedupe_key is not None:
            existing = await self.session.scalar(
                select(OutboxMessage.id).where(OutboxMessage.dedupe_key == dedupe_key)
            )
            if existing is not None:
                return None
        row = OutboxMessage(
            chat_id=chat_id,
            kind=kind,
            text=text,
            reply_markup=reply_markup,
            edit_of_id=edit_of_id,
            mergeable=mergeable and merge_text is not None,
            merge_text=merge_text,
            dedupe_key=dedupe_key,
            status="pending",
            attempts=0,
            not_before=now,
            created_at=now,
        )
        self.session.add(row)
        await self.session.flush()
        return row
