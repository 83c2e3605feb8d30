"""Booking queries. Add and flush; the entry point owns the transaction."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Booking, BookingRevision, RoomLock

ACTIVE = ("pending", "confirmed", "in_progress")


class BookingRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def lock_room(self, room_id: str) -> None:
        """Serialise bookings of one room: the first write of the transaction takes the lock.

        The row is created with "insert, or nothing if it exists" so that two transactions
        booking a room for the first time wait for each other instead of one failing on the
        primary key.
        """
        dialect = self.session.get_bind().dialect.name
        if dialect in ("sqlite", "postgresql"):
            insert = sqlite_insert if dialect == "sqlite" else postgresql_insert
            await self.session.execute(
                insert(RoomLock).values(room_id=room_id, version=0).on_conflict_do_nothing()
            )
        result = await self.session.execute(
            update(RoomLock).where(RoomLock.room_id == room_id).values(version=RoomLock.version + 1)
        )
        if result.rowcount == 0:  # type: ignore[attr-defined]
            self.session.add(RoomLock(room_id=room_id, version=1))
            await self.session.flush()

    async def get(self, booking_id: int) -> Booking | None:
        return await self.session.get(Booking, booking_id)

    async def conflicts(
        self, room_id: str, start: datetime, blocked_until: datetime, exclude_id: int | None = None
    ) -> Sequence[Booking]:
        query = select(Booking).where(
            Booking.room_id == room_id,
            Booking.status.in_(ACTIVE),
            Booking.start_at < blocked_until,
            Booking.blocked_until > start,
        )
        if exclude_id is not None:
            query = query.where(Booking.id != exclude_id)
        return (await self.session.scalars(query)).all()

    async def active_between(self, start: datetime, end: datetime) -> Sequence[Booking]:
        query = select(Booking).where(
            Booking.status.in_(ACTIVE), Booking.start_at < end, Booking.blocked_until > start
        )
        return (await self.session.scalars(query)).all()

    async def add(self, booking: Booking) -> Booking:
        self.session.add(booking)
        await self.session.flush()
        return booking

    async def add_revision(
        self, booking: Booking, event: str, snapshot: dict[str, Any], actor_id: int, at: datetime
    ) -> None:
        self.session.add(
            BookingRevision(
                booking_id=booking.id,
                revision=booking.revision,
                event=event,
                snapshot=snapshot,
                actor_id=actor_id,
                at=at,
            )
        )
        await self.session.flush()

    async def revisions(self, booking_id: int) -> Sequence[BookingRevision]:
        query = (
            select(BookingRevision)
            .where(BookingRevision.booking_id == booking_id)
            .order_by(BookingRevision.id)
        )
        return (await self.session.scalars(query)).all()

    async def upcoming(
        self,
        now: datetime,
        *,
        department_id: str | None = None,
        limit: int = 50,
    ) -> Sequence[Booking]:
        query = select(Booking).where(Booking.status.in_(ACTIVE), Booking.end_at > now)
        if department_id is not None:
            query = query.where(Booking.department_id == department_id)
        return (await self.session.scalars(query.order_by(Booking.start_at).limit(limit))).all()

    async def between(self, start: datetime, end: datetime) -> Sequence[Booking]:
        query = (
            select(Booking).where(Booking.start_at < end, Booking.end_at > start).order_by(Booking.start_at)
        )
        return (await self.session.scalars(query)).all()
