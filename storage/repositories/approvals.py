"""Requests waiting for approval: their timers, the list, and the approvers' messages about them.

Add and flush; the entry point owns the transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Booking, OutboxMessage
from storage.repositories.outbox import OutboxRepository, outbox_row

PENDING = "pending"
REQUEST_NOTICES = ("approval_request", "approval_reminder", "approval_escalated")
"""The notices that ask someone to decide a request: each carries its Approve/Reject buttons."""
_SHOWN = ("sent", "sending", "merged")


WITH_SERIES = 3
"""The approval stage of a meeting waiting with its series' request rather than asked itself
(bot/services/series_requests.py): the request is the series', carried by another meeting."""


def request_key_prefix(booking_id: int) -> str:
    """The dedupe keys of every message asking to decide a booking start with this."""
    return f"approve:{booking_id}:"


class ApprovalRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    # ---- the timers ---------------------------------------------------------------------
    async def due(self, now: datetime, limit: int) -> Sequence[Booking]:
        """Waiting requests whose timer came due, oldest timer first (``ix_bookings_approval_timer``)."""
        query = (
            select(Booking)
            .where(Booking.approval_next_at.is_not(None), Booking.approval_next_at <= now)
            .order_by(Booking.approval_next_at, Booking.id)
            .limit(limit)
        )
        return (await self.session.scalars(query)).all()

    async def next_due(self, after: datetime) -> datetime | None:
        """The first approval timer after ``after``."""
        return await self.session.scalar(
            select(func.min(Booking.approval_next_at)).where(
                Booking.approval_next_at.is_not(None), Booking.approval_next_at > after
            )
        )

    async def claim(
        self,
        booking: Booking,
        *,
        stage: int,
        stage_at: datetime | None,
        next_at: datetime | None,
    ) -> bool:
        """Move a waiting request's timer on, if nobody did since ``booking`` was read: the
        update names the status, revision, stage and moment read, so of two instances (or a
        run and a decision) exactly one moves it. True when this one did."""
        result = await self.session.execute(
            update(Booking)
            .where(
                Booking.id == booking.id,
                Booking.status == PENDING,
                Booking.revision == booking.revision,
                Booking.approval_stage == booking.approval_stage,
                Booking.approval_next_at == booking.approval_next_at,
            )
            .values(approval_stage=stage, approval_stage_at=stage_at, approval_next_at=next_at)
            .execution_options(synchronize_session=False)
        )
        claimed = bool(result.rowcount)  # type: ignore[attr-defined]
        if claimed:
            await self.session.refresh(booking)
        return claimed

    async def clear(self, booking_id: int) -> None:
        """Drop the timer of a booking that no longer waits for approval."""
        await self.session.execute(
            update(Booking)
            .where(Booking.id == booking_id, Booking.status != PENDING)
            .values(approval_next_at=None)
            .execution_options(synchronize_session=False)
        )

    # ---- the list -------------------------------------------------------------------------
    async def waiting(self, offset: int, limit: int) -> tuple[Sequence[Booking], int]:
        """A page of the requests waiting for approval, longest waiting first, and how many wait.
        A series asked once is one request: the meetings waiting with it are not listed."""
        query = (
            select(Booking)
            .where(Booking.status == PENDING, Booking.approval_stage != WITH_SERIES)
            .order_by(Booking.approval_since.is_(None), Booking.approval_since, Booking.id)
            .offset(offset)
            .limit(limit)
        )
        rows = (await self.session.scalars(query)).all()
        total = await self.session.scalar(
            select(func.count())
            .select_from(Booking)
            .where(Booking.status == PENDING, Booking.approval_stage != WITH_SERIES)
        )
        return rows, int(total or 0)

    async def of_bookings(self, booking_ids: Sequence[int]) -> dict[int, Booking]:
        if not booking_ids:
            return {}
        rows = await self.session.scalars(select(Booking).where(Booking.id.in_(list(booking_ids))))
        return {row.id: row for row in rows}

    # ---- the approvers' messages ---------------------------------------------------------
    async def was_shown(self, dedupe_key: str | None) -> bool:
        """Whether the message queued with this key went out (it has a message to edit)."""
        if dedupe_key is None:
            return False
        message_id = await self.session.scalar(
            select(OutboxMessage.message_id).where(OutboxMessage.dedupe_key == dedupe_key)
        )
        return message_id is not None

    async def close_requests(self, booking_id: int, revision: int, now: datetime) -> int:
        """Queue an edit of every message that asked to decide this booking and went out (or
        is going out): each is rendered again, showing what became of the request. The
        number of edits queued; one per message and revision, however often this is called."""
        rows = (
            await self.session.execute(
                select(
                    OutboxMessage.id,
                    OutboxMessage.chat_id,
                    OutboxMessage.notice,
                    OutboxMessage.params,
                    OutboxMessage.language,
                ).where(
                    OutboxMessage.dedupe_key.like(f"{request_key_prefix(booking_id)}%"),
                    OutboxMessage.kind == "send",
                    OutboxMessage.notice.in_(REQUEST_NOTICES),
                    OutboxMessage.status.in_(_SHOWN),
                )
            )
        ).all()
        edits: list[dict[str, Any]] = [
            outbox_row(
                chat_id=chat_id,
                now=now,
                notice=notice,
                params=params,
                language=language,
                kind="edit",
                edit_of_id=row_id,
                dedupe_key=f"approve-closed:{row_id}:{revision}",
            )
            for row_id, chat_id, notice, params, language in rows
        ]
        if not edits:
            return 0
        return sum(1 for row_id in await OutboxRepository(self.session).add_many(edits) if row_id)
