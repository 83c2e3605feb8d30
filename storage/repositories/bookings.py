"""Booking queries. Add and flush; the entry point owns the transaction."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    CompoundSelect,
    Float,
    Interval,
    bindparam,
    case,
    select,
    union_all,
    update,
)
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Booking, BookingRevision, RoomLock, booking_span

ACTIVE = ("pending", "confirmed", "in_progress")
# SQLite computes spans from whole milliseconds; asking for a little less than the bound keeps
# every booking that is truly longer (the rows are then checked exactly).
_SPAN_SLACK = timedelta(seconds=1)


def _span_over(bound: timedelta, dialect: str) -> ColumnElement[bool]:
    """``booking_span > bound``, written as ``ix_bookings_span`` indexes it."""
    span = booking_span(Booking.blocked_until, Booking.start_at)
    if dialect == "sqlite":  # julianday differences: days
        return span > bindparam(None, (bound - _SPAN_SLACK) / timedelta(days=1), type_=Float())
    return span > bindparam(None, bound - _SPAN_SLACK, type_=Interval())


def _overlapping(
    columns: Sequence[Any],
    start: datetime,
    end: datetime,
    span_bound: timedelta,
    dialect: str,
    room_id: str | None = None,
    exclude_id: int | None = None,
) -> CompoundSelect[Any]:
    """The bookings (other than ``exclude_id``) whose block [start_at, blocked_until) meets
    [start, end), in two index range reads instead of a scan. All the active ones of the room
    (or of every room) are among them; the caller drops the others by ``status`` and ``room_id``.

    A block meets the window when ``start_at < end`` and ``blocked_until > start``. Those that
    started after ``start - span_bound`` are read from the window of start times
    (``ix_bookings_status_start``, or ``ix_bookings_room_time`` for one room). One that started
    earlier and still blocks ``start`` holds its room longer than ``span_bound``: those are read
    from ``ix_bookings_span``. The bound only decides which read finds a booking, never whether
    it is found, so a booking of any length is seen.
    """
    lower = start - span_bound
    recent = select(*columns).where(
        Booking.status.in_(ACTIVE),
        Booking.start_at > lower,
        Booking.start_at < end,
        Booking.blocked_until > start,
    )
    # No status or room condition here: it could lead the planner to read every past booking
    # of that status or room (ix_bookings_status, ix_bookings_room_time) instead of the few
    # long ones; no index leads with start_at or blocked_until.
    long = select(*columns).where(
        _span_over(span_bound, dialect), Booking.start_at <= lower, Booking.blocked_until > start
    )
    if room_id is not None:
        recent = recent.where(Booking.room_id == room_id)
    if exclude_id is not None:
        recent = recent.where(Booking.id != exclude_id)
        long = long.where(Booking.id != exclude_id)
    return union_all(recent, long)


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

    def _dialect(self) -> str:
        return self.session.get_bind().dialect.name

    async def conflicts(
        self,
        room_id: str,
        start: datetime,
        blocked_until: datetime,
        exclude_id: int | None = None,
        *,
        span_bound: timedelta,
    ) -> Sequence[Booking]:
        """Active bookings of the room whose block meets [start, blocked_until).

        ``span_bound``: how long bookings normally hold a room (longest booking + buffer); any
        value is correct, a close one is fast.
        """
        statement = _overlapping(
            [Booking], start, blocked_until, span_bound, self._dialect(), room_id, exclude_id
        )
        found = await self.session.scalars(select(Booking).from_statement(statement))
        return [booking for booking in found if booking.status in ACTIVE and booking.room_id == room_id]

    async def rooms_taken(
        self,
        start: datetime,
        until: Mapping[str, datetime],
        *,
        span_bound: timedelta,
        exclude_id: int | None = None,
    ) -> set[str]:
        """The rooms (keys of ``until``) that an active booking other than ``exclude_id`` holds
        at some moment of [start, until[room]), in one statement that returns no times.

        ``span_bound`` as for :meth:`conflicts`.
        """
        if not until:
            return set()
        ends = sorted(set(until.values()))  # one per buffer length among the rooms
        # the first of the ends after the block's start: it takes the rooms that end there or later
        first_end = case(
            *((Booking.start_at < end, number) for number, end in enumerate(ends)), else_=len(ends)
        ).label("first_end")
        columns = [Booking.room_id, Booking.status, first_end]
        statement = _overlapping(columns, start, ends[-1], span_bound, self._dialect(), exclude_id=exclude_id)
        number_of = {end: number for number, end in enumerate(ends)}
        return {
            room_id
            for room_id, status, first in await self.session.execute(statement)
            if status in ACTIVE and room_id in until and first <= number_of[until[room_id]]
        }

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
