"""The monthly statement per department (docs/product.md §5) and its answer.

One row per department and month: written in the transaction that queues the statement, so a
restart or a second instance finds it and sends nothing twice, and the contact's Accept or
Dispute (with its reason) is kept with it.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base


class Statement(Base):
    """``sent`` to the department's contacts → ``accepted`` | ``disputed`` (with a reason)."""

    __tablename__ = "statements"
    __table_args__ = (UniqueConstraint("department_id", "month"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    department_id: Mapped[str] = mapped_column(String(64))
    month: Mapped[str] = mapped_column(String(7))
    """``2026-11``: the month the statement covers."""
    status: Mapped[str] = mapped_column(String(12))
    recipients: Mapped[list[int]] = mapped_column(JSON)
    """Who may accept or dispute it: the people it was sent to."""
    sent_at: Mapped[datetime]
    decided_by_id: Mapped[int | None] = mapped_column(BigInteger)
    decided_at: Mapped[datetime | None]
    dispute_reason: Mapped[str | None] = mapped_column(Text)
