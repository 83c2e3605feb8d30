"""The outbox: every notice and edit waiting to be sent, and what was sent."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base

OUTBOX_OPEN = text("status IN ('pending', 'sending')")
OUTBOX_PENDING_EDIT = text("kind = 'edit' AND status = 'pending'")
OUTBOX_MERGED_PART = text("merged_into_id IS NOT NULL")


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
        # The parts of a merged message (looked up by their host). Partial: most rows are
        # never merged, and an entry per insert for them was a write for nothing.
        Index(
            "ix_outbox_merged_into_id",
            "merged_into_id",
            sqlite_where=OUTBOX_MERGED_PART,
            postgresql_where=OUTBOX_MERGED_PART,
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
    merged_into_id: Mapped[int | None] = mapped_column(Integer)
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
