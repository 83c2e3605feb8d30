"""Bookings, their revisions, and the per-room lock that serialises them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

from storage.models.base import Base

APPROVAL_TIMER = text("approval_next_at IS NOT NULL")


class RoomLock(Base):
    """One row per room; bumping it serialises bookings of that room on every backend."""

    __tablename__ = "room_locks"

    room_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, default=0)


class booking_span(FunctionElement[Any]):
    """``booking_span(blocked_until, start_at)``: how long a booking holds its room.

    In the backend's own unit: days (a float) on SQLite, an interval on PostgreSQL. It is
    indexed (``ix_bookings_span``), so the few bookings that hold a room longer than a bound
    are found without reading the table; see ``BookingRepository``.
    """

    inherit_cache = True
    name = "booking_span"


@compiles(booking_span, "sqlite")
def _booking_span_sqlite(element: booking_span, compiler: SQLCompiler, **kw: Any) -> str:
    until, start = (compiler.process(clause, **kw) for clause in element.clauses)
    return f"(julianday({until}) - julianday({start}))"


@compiles(booking_span)
def _booking_span_default(element: booking_span, compiler: SQLCompiler, **kw: Any) -> str:
    until, start = (compiler.process(clause, **kw) for clause in element.clauses)
    return f"({until} - {start})"


class BookingSeries(Base):
    """A booking that repeats: its rule (bot/services/recurrence.py ``RecurrenceRule.to_json``)
    and how many meetings it was made with. Each meeting is a booking of its own, pointing here."""

    __tablename__ = "booking_series"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    rule: Mapped[dict[str, Any]] = mapped_column(JSON)
    department_id: Mapped[str] = mapped_column(String(64))
    requester_id: Mapped[int] = mapped_column(BigInteger)
    booked_by_id: Mapped[int] = mapped_column(BigInteger)
    occurrences: Mapped[int] = mapped_column(Integer)
    """How many meetings the rule gave (booked or skipped): the n of "3/n"."""
    created_at: Mapped[datetime]


class Booking(Base):
    __tablename__ = "bookings"
    __table_args__ = (
        Index("ix_bookings_room_time", "room_id", "start_at", "blocked_until"),
        # Every active booking that starts in a window, with what the free-room search needs.
        Index("ix_bookings_status_start", "status", "start_at", "blocked_until", "room_id"),
        # The approval timers the clock job claims, in the order it claims them; only the
        # requests waiting for approval have one, so the index stays small.
        Index(
            "ix_bookings_approval_timer",
            "approval_next_at",
            "id",
            sqlite_where=APPROVAL_TIMER,
            postgresql_where=APPROVAL_TIMER,
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    status: Mapped[str] = mapped_column(String(16), index=True)
    revision: Mapped[int] = mapped_column(Integer, default=1)
    department_id: Mapped[str] = mapped_column(String(64), index=True)
    requester_id: Mapped[int] = mapped_column(BigInteger, index=True)
    booked_by_id: Mapped[int] = mapped_column(BigInteger)
    room_id: Mapped[str] = mapped_column(String(32))
    start_at: Mapped[datetime]
    end_at: Mapped[datetime]
    blocked_until: Mapped[datetime]
    attendees: Mapped[int] = mapped_column(Integer)
    layout: Mapped[str] = mapped_column(String(32))
    reception_level: Mapped[int] = mapped_column(Integer)
    confidential: Mapped[bool] = mapped_column(Boolean, default=False)
    title: Mapped[str] = mapped_column(Text)
    contact_name: Mapped[str] = mapped_column(String(200))
    contact_phone: Mapped[str] = mapped_column(String(64))
    notes: Mapped[str] = mapped_column(Text, default="")
    services: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    decision_reason: Mapped[str | None] = mapped_column(Text)
    decided_by_id: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    # A request waiting for approval (docs/product.md §2): since when, how far it was chased
    # (0 asked, 1 reminded, 2 escalated) and when, and when the clock job looks at it next
    # (remind, escalate, or reject it at its start). NULL next: nothing to chase.
    approval_since: Mapped[datetime | None]
    approval_stage: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    approval_stage_at: Mapped[datetime | None]
    approval_next_at: Mapped[datetime | None]
    # Check-in (docs/product.md §2): "" not yet, "prompted", "checked_in", "late" (running
    # late: kept), "released" (a no-show); who checked in and when. The clock job and the
    # presses move it with conditional updates naming the state they read.
    checkin_state: Mapped[str] = mapped_column(String(16), default="", server_default="")
    checked_in_at: Mapped[datetime | None]
    checked_in_by: Mapped[int | None] = mapped_column(BigInteger)
    # A meeting of a recurring series (docs/product.md §2): the series and its place in it
    # (0 is the first meeting); NULL for a booking on its own.
    series_id: Mapped[int | None] = mapped_column(ForeignKey("booking_series.id"), index=True)
    series_index: Mapped[int | None] = mapped_column(Integer)


# The expression must be written exactly like this in queries for the index to be used.
Index("ix_bookings_span", booking_span(Booking.blocked_until, Booking.start_at))


class BookingRevision(Base):
    __tablename__ = "booking_revisions"
    __table_args__ = (UniqueConstraint("booking_id", "revision"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    booking_id: Mapped[int] = mapped_column(ForeignKey("bookings.id", ondelete="CASCADE"), index=True)
    revision: Mapped[int] = mapped_column(Integer)
    event: Mapped[str] = mapped_column(String(16))
    snapshot: Mapped[dict[str, Any]] = mapped_column(JSON)
    actor_id: Mapped[int] = mapped_column(BigInteger)
    at: Mapped[datetime]
