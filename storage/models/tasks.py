"""Tasks (each one timed thing a team does for a booking), their events, where they are shown."""

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
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base


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
    # looked up through the unique constraint's index, which starts with it
    booking_id: Mapped[int] = mapped_column(ForeignKey("bookings.id", ondelete="CASCADE"))
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
    """An append-only log of what happened to a task. ``task_id`` has no foreign key: the tick
    writes thousands of events a second from the tasks it has just read, and tasks are never
    deleted, so a check per row guarded nothing (migration 0012)."""

    __tablename__ = "task_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    task_id: Mapped[int] = mapped_column(Integer, index=True)
    kind: Mapped[str] = mapped_column(String(24))
    actor_id: Mapped[int | None] = mapped_column(BigInteger)
    at: Mapped[datetime]
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class TaskMessage(Base):
    """Where a task is shown in Telegram, so a press can edit the message in place.
    ``task_id`` has no foreign key, as :class:`TaskEvent`; the unique constraint's index,
    which starts with it, serves the lookups by task."""

    __tablename__ = "task_messages"
    __table_args__ = (UniqueConstraint("task_id", "chat_id", "outbox_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    task_id: Mapped[int] = mapped_column(Integer)
    chat_id: Mapped[int] = mapped_column(BigInteger)
    outbox_id: Mapped[int] = mapped_column(Integer, index=True)
    purpose: Mapped[str] = mapped_column(String(16))
