"""Booking series: the rule of a recurring booking and its meetings. Add and flush; the entry
point owns the transaction."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Booking, BookingSeries


class SeriesRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, series: BookingSeries) -> BookingSeries:
        self.session.add(series)
        await self.session.flush()
        return series

    async def get(self, series_id: int) -> BookingSeries | None:
        return await self.session.get(BookingSeries, series_id)

    async def of_ids(self, series_ids: Sequence[int]) -> dict[int, BookingSeries]:
        if not series_ids:
            return {}
        rows = await self.session.scalars(
            select(BookingSeries).where(BookingSeries.id.in_(sorted(set(series_ids))))
        )
        return {row.id: row for row in rows}

    async def meetings(
        self,
        series_id: int,
        *,
        from_index: int = 0,
        statuses: Sequence[str] | None = None,
        starting_after: datetime | None = None,
    ) -> Sequence[Booking]:
        """The series' bookings from ``from_index`` on, in their order."""
        query = select(Booking).where(Booking.series_id == series_id, Booking.series_index >= from_index)
        if statuses is not None:
            query = query.where(Booking.status.in_(list(statuses)))
        if starting_after is not None:
            query = query.where(Booking.start_at > starting_after)
        return (await self.session.scalars(query.order_by(Booking.series_index, Booking.id))).all()
