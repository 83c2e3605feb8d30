"""Tables of the digest, the weekly briefing and the after-meeting care.

They live on the same ``Base`` (storage/models/base.py: one metadata, one naming convention)
and are created by migration 0002. Money is kept in cents (分) as integers.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base


class ClockRun(Base):
    """One row per clock job and period (``digest`` + a date, ``weekly`` + an ISO week).

    Inserting it is how an instance claims the run: a second instance, or the same one
    after a restart, finds the row and does nothing.
    """

    __tablename__ = "clock_runs"

    job: Mapped[str] = mapped_column(String(32), primary_key=True)
    period: Mapped[str] = mapped_column(String(32), primary_key=True)
    at: Mapped[datetime]


class FollowUp(Base):
    """A finished meeting whose after-care was started (cards, feedback request): once only."""

    __tablename__ = "followups"

    booking_id: Mapped[int] = mapped_column(
        ForeignKey("bookings.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    ended_at: Mapped[datetime]
    created_at: Mapped[datetime]


class LostItem(Base):
    """拾遗物品: ``draft`` (waiting for the description) → ``unclaimed`` → ``handed_over``."""

    __tablename__ = "lost_items"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    booking_id: Mapped[int | None] = mapped_column(ForeignKey("bookings.id", ondelete="SET NULL"), index=True)
    room_id: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), index=True)
    description: Mapped[str] = mapped_column(Text, default="")
    photo_file_id: Mapped[str | None] = mapped_column(String(256))
    finder_id: Mapped[int] = mapped_column(BigInteger)
    team_id: Mapped[str | None] = mapped_column(String(24))
    found_at: Mapped[datetime]
    handed_to: Mapped[str | None] = mapped_column(Text)
    handed_by_id: Mapped[int | None] = mapped_column(BigInteger)
    handed_at: Mapped[datetime | None]


class ConsumptionRecord(Base):
    """会务用品使用登记: a quantity of a catalogue item used by a meeting, at its price then."""

    __tablename__ = "consumption_records"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    booking_id: Mapped[int] = mapped_column(ForeignKey("bookings.id", ondelete="CASCADE"), index=True)
    consumable_id: Mapped[str] = mapped_column(String(24))
    quantity: Mapped[int] = mapped_column(Integer)
    unit_price_cents: Mapped[int] = mapped_column(Integer)
    team_id: Mapped[str | None] = mapped_column(String(24))
    recorded_by_id: Mapped[int] = mapped_column(BigInteger)
    recorded_at: Mapped[datetime]


class FeeConfirmation(Base):
    """会议费确认单: ``sent`` to the organiser → ``accepted`` | ``disputed`` (with a reason)."""

    __tablename__ = "fee_confirmations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    booking_id: Mapped[int] = mapped_column(ForeignKey("bookings.id", ondelete="CASCADE"), unique=True)
    status: Mapped[str] = mapped_column(String(12))
    items: Mapped[list[Any]] = mapped_column(JSON)
    total_cents: Mapped[int] = mapped_column(Integer)
    organiser_id: Mapped[int] = mapped_column(BigInteger)
    sent_by_id: Mapped[int] = mapped_column(BigInteger)
    sent_at: Mapped[datetime]
    decided_at: Mapped[datetime | None]
    dispute_reason: Mapped[str | None] = mapped_column(Text)


class Feedback(Base):
    """满意度: the organiser's score (1–5) and comment for one meeting."""

    __tablename__ = "feedback"

    booking_id: Mapped[int] = mapped_column(
        ForeignKey("bookings.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    organiser_id: Mapped[int] = mapped_column(BigInteger)
    asked_at: Mapped[datetime]
    score: Mapped[int | None] = mapped_column(Integer)
    rated_at: Mapped[datetime | None]
    comment: Mapped[str | None] = mapped_column(Text)
    commented_at: Mapped[datetime | None]


class Prompt(Base):
    """A ForceReply question the bot asked: the answer is a reply to ``message_id`` by ``user_id``.

    In groups the bot only hears replies to its own messages (privacy mode), so every typed
    answer of the after-care flows is matched to its question here, across restarts too.
    """

    __tablename__ = "prompts"
    __table_args__ = (UniqueConstraint("chat_id", "message_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    chat_id: Mapped[int] = mapped_column(BigInteger)
    message_id: Mapped[int] = mapped_column(BigInteger)
    user_id: Mapped[int] = mapped_column(BigInteger)
    kind: Mapped[str] = mapped_column(String(24))
    ref_id: Mapped[int] = mapped_column(Integer)
    extra: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime]
