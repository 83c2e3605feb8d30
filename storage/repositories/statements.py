"""Queries of the monthly statement per department. Add and flush only."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Booking, Statement
from storage.models.aftercare import ConsumptionRecord, FeeConfirmation


class StatementRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def bookings_starting(
        self, start: datetime, end: datetime, statuses: Sequence[str], department_id: str | None = None
    ) -> Sequence[Booking]:
        query = select(Booking).where(
            Booking.start_at >= start, Booking.start_at < end, Booking.status.in_(statuses)
        )
        if department_id is not None:
            query = query.where(Booking.department_id == department_id)
        return (await self.session.scalars(query.order_by(Booking.start_at, Booking.id))).all()

    async def records_of(self, booking_ids: Sequence[int]) -> Sequence[ConsumptionRecord]:
        if not booking_ids:
            return []
        query = (
            select(ConsumptionRecord)
            .where(ConsumptionRecord.booking_id.in_(booking_ids))
            .order_by(ConsumptionRecord.id)
        )
        return (await self.session.scalars(query)).all()

    async def fees_of(self, booking_ids: Sequence[int]) -> Sequence[FeeConfirmation]:
        if not booking_ids:
            return []
        query = select(FeeConfirmation).where(FeeConfirmation.booking_id.in_(booking_ids))
        return (await self.session.scalars(query)).all()

    async def add(self, statement: Statement) -> Statement:
        self.session.add(statement)
        await self.session.flush()
        return statement

    async def get(self, statement_id: int, *, fresh: bool = False) -> Statement | None:
        """``fresh``: read again, after a conditional update that bypassed the loaded row."""
        return await self.session.get(Statement, statement_id, populate_existing=fresh)

    async def of_month(self, month: str) -> Sequence[Statement]:
        query = select(Statement).where(Statement.month == month).order_by(Statement.department_id)
        return (await self.session.scalars(query)).all()

    async def count_of_month(self, month: str) -> int:
        query = select(func.count()).select_from(Statement).where(Statement.month == month)
        return int(await self.session.scalar(query) or 0)

    async def decide(
        self, statement_id: int, status: str, user_id: int, reason: str | None, now: datetime
    ) -> bool:
        """Record the answer if it is still open: of two presses at once exactly one wins."""
        result = await self.session.execute(
            update(Statement)
            .where(Statement.id == statement_id, Statement.status == "sent")
            .values(status=status, decided_by_id=user_id, decided_at=now, dispute_reason=reason)
            .execution_options(synchronize_session=False)
        )
        return bool(getattr(result, "rowcount", 0))
