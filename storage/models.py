"""Tables. Times are stored in UTC; the site's zone is applied only when shown."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes on every backend (SQLite keeps no zone of its own)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database; use the clock's aware UTC time")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime, dict[str, Any]: JSON, list[Any]: JSON}


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    first_name: Mapped[str] = mapped_column(String(128), default="")
    username: Mapped[str | None] = mapped_column(String(64))
    language: Mapped[str | None] = mapped_column(String(8))
    department_id: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime]


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


class Booking(Base):
    __tablename__ = "bookings"
    __table_args__ = (
        Index("ix_bookings_room_time", "room_id", "start_at", "blocked_until"),
        # Every active booking that starts in a window, with what the free-room search needs.
        Index("ix_bookings_status_start", "status", "start_at", "blocked_until", "room_id"),
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


class Task(Base):
    """One thing a team must do for a booking, with its own timer (``next_at``).

    ``status``: planned (waiting for its push time) → open (pushed, awaiting Done) →
    done; ``problem`` is open with a reported problem; ``sent`` is a pushed reminder that
    needs no confirmation; ``cancelled`` (no longer needed), ``skipped`` (its moment
    passed before it could be pushed) and ``missed`` (still open when its window closed,
    ``expires_at``) are final. ``stage`` counts escalation steps taken
    since the push (0 = waiting for the due time, 1 = group reminded, 2.. = chain steps).
    """

    __tablename__ = "tasks"
    __table_args__ = (
        UniqueConstraint("booking_id", "template_id", "team_id", "occurrence"),
        # The tick's claim and its sleep read this in order (see TaskRepository.claim_due).
        # Partial: a year's finished tasks (next_at NULL) are not in it.
        Index(
            "ix_tasks_timer",
            "next_at",
            "id",
            sqlite_where=text("next_at IS NOT NULL"),
            postgresql_where=text("next_at IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    booking_id: Mapped[int] = mapped_column(ForeignKey("bookings.id", ondelete="CASCADE"), index=True)
    template_id: Mapped[str] = mapped_column(String(32))
    team_id: Mapped[str] = mapped_column(String(24), index=True)
    occurrence: Mapped[int] = mapped_column(Integer, default=0)
    kind: Mapped[str] = mapped_column(String(16))
    needs_confirmation: Mapped[bool] = mapped_column(Boolean)
    leader_only: Mapped[bool] = mapped_column(Boolean, default=False)
    push_at: Mapped[datetime]
    planned_due_at: Mapped[datetime | None]
    due_at: Mapped[datetime | None]
    expires_at: Mapped[datetime | None]
    status: Mapped[str] = mapped_column(String(16), index=True)
    stage: Mapped[int] = mapped_column(Integer, default=0)
    steps: Mapped[int] = mapped_column(Integer, default=0)
    next_at: Mapped[datetime | None]
    late: Mapped[bool] = mapped_column(Boolean, default=False)
    pushed_at: Mapped[datetime | None]
    confirmed_by_id: Mapped[int | None] = mapped_column(BigInteger)
    confirmed_at: Mapped[datetime | None]
    on_behalf: Mapped[bool] = mapped_column(Boolean, default=False)
    problem_reason: Mapped[str | None] = mapped_column(Text)
    problem_by_id: Mapped[int | None] = mapped_column(BigInteger)
    acknowledged_by_id: Mapped[int | None] = mapped_column(BigInteger)
    assignee_id: Mapped[int | None] = mapped_column(BigInteger)
    lease_until: Mapped[datetime | None]
    leased_by: Mapped[str | None] = mapped_column(String(64))
    updated_at: Mapped[datetime]


class TaskEvent(Base):
    __tablename__ = "task_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(24))
    actor_id: Mapped[int | None] = mapped_column(BigInteger)
    at: Mapped[datetime]
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class TaskMessage(Base):
    """Where a task is shown in Telegram, so a press can edit the message in place."""

    __tablename__ = "task_messages"
    __table_args__ = (UniqueConstraint("task_id", "chat_id", "outbox_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id", ondelete="CASCADE"), index=True)
    chat_id: Mapped[int] = mapped_column(BigInteger)
    outbox_id: Mapped[int] = mapped_column(Integer, index=True)
    purpose: Mapped[str] = mapped_column(String(16))


OUTBOX_OPEN = text("status IN ('pending', 'sending')")
OUTBOX_PENDING_EDIT = text("kind = 'edit' AND status = 'pending'")


class OutboxMessage(Base):
    """A notice to send (kind ``send``) or an edit of an earlier row's message (``edit``).

    A row records what to show, not the text: the notice kind (``notice``), its parameters
    (``params``: the ids of its subjects, as JSON) and the reader's ``language``; the sender
    renders it from the current state when it sends (bot/delivery/outbox.py). ``text``,
    ``reply_markup`` and ``merge_text`` are what the row showed when it was sent.

    ``status``: pending → sending (leased by one sender) → sent | failed; ``merged`` rows were
    sent as part of the row named by ``merged_into_id`` (their ``merge_text`` is their line
    in it); ``applied`` edits were overtaken by a send or an edit that showed the card as it
    was then, so they needed no call; ``dropped`` rows had nothing left to show when their
    turn came (their subject was gone).
    """

    __tablename__ = "outbox"
    __table_args__ = (
        # The sender walks the chats with unfinished rows, and each chat's rows in order,
        # without reading the rest of the table (see OutboxRepository.open_chats). Partial
        # indexes only: one on status would be what SQLite, without statistics, picks for
        # "status = 'pending'", reading every waiting row.
        Index(
            "ix_outbox_open",
            "chat_id",
            "id",
            "status",
            sqlite_where=OUTBOX_OPEN,
            postgresql_where=OUTBOX_OPEN,
        ),
        # Edits waiting for the message they change (OutboxRepository.pending_edits_of).
        Index(
            "ix_outbox_pending_edits",
            "edit_of_id",
            sqlite_where=OUTBOX_PENDING_EDIT,
            postgresql_where=OUTBOX_PENDING_EDIT,
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    chat_id: Mapped[int] = mapped_column(BigInteger)
    kind: Mapped[str] = mapped_column(String(8))
    notice: Mapped[str | None] = mapped_column(String(32))
    params: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    language: Mapped[str | None] = mapped_column(String(8))
    text: Mapped[str | None] = mapped_column(Text)
    reply_markup: Mapped[list[Any] | None] = mapped_column(JSON)
    edit_of_id: Mapped[int | None] = mapped_column(Integer)
    mergeable: Mapped[bool] = mapped_column(Boolean, default=False)
    merged_into_id: Mapped[int | None] = mapped_column(Integer, index=True)
    merge_text: Mapped[str | None] = mapped_column(Text)
    dedupe_key: Mapped[str | None] = mapped_column(String(128), unique=True)
    status: Mapped[str] = mapped_column(String(12))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    not_before: Mapped[datetime]
    lease_until: Mapped[datetime | None]
    leased_by: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]
    message_id: Mapped[int | None] = mapped_column(BigInteger)
    error: Mapped[str | None] = mapped_column(Text)


class ProcessedUpdate(Base):
    """Update ids already handled, so a redelivered update changes nothing twice."""

    __tablename__ = "processed_updates"

    update_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    at: Mapped[datetime] = mapped_column(index=True)


class ChatBinding(Base):
    """A team's group bound at run time with /bind (overrides the site file's chat_id)."""

    __tablename__ = "chat_bindings"

    team_id: Mapped[str] = mapped_column(String(24), primary_key=True)
    chat_id: Mapped[int] = mapped_column(BigInteger, unique=True)
    bound_by_id: Mapped[int] = mapped_column(BigInteger)
    at: Mapped[datetime]
