"""Tables of department membership: invites, requests to move in, failed invite attempts.

They live on the same ``Base`` (storage/models/base.py: one metadata, one naming convention)
and are created by migration 0004.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base


class Invite(Base):
    """An invite into a department, issued by an admin: one use, until ``expires_at``.

    Only a digest of the code is kept (``code_digest``, SHA-256 hex), so whoever reads the
    database cannot join with a live invite; ``code_hint`` (its first characters) lets an
    admin tell their invites apart in /invites.
    """

    __tablename__ = "invites"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code_digest: Mapped[str] = mapped_column(String(64), unique=True)
    code_hint: Mapped[str] = mapped_column(String(8))
    department_id: Mapped[str] = mapped_column(String(64), index=True)
    created_by_id: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    used_by_id: Mapped[int | None] = mapped_column(BigInteger)
    used_at: Mapped[datetime | None]
    revoked_by_id: Mapped[int | None] = mapped_column(BigInteger)
    revoked_at: Mapped[datetime | None]


class MembershipRequest(Base):
    """Someone already registered opened another department's invite: ``pending`` until that
    department's admin (or a site admin) decides, then ``approved`` or ``refused``."""

    __tablename__ = "membership_requests"
    __table_args__ = (Index("ix_membership_requests_user_status", "user_id", "status"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(BigInteger)
    department_id: Mapped[str] = mapped_column(String(64))
    from_department_id: Mapped[str | None] = mapped_column(String(64))
    invite_id: Mapped[int | None] = mapped_column(ForeignKey("invites.id", ondelete="SET NULL"))
    status: Mapped[str] = mapped_column(String(12))
    created_at: Mapped[datetime]
    decided_at: Mapped[datetime | None]
    decided_by_id: Mapped[int | None] = mapped_column(BigInteger)


class InviteFailure(Base):
    """One failed invite attempt of a person; the recent ones limit their guessing."""

    __tablename__ = "invite_failures"
    __table_args__ = (Index("ix_invite_failures_user_at", "user_id", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(BigInteger)
    at: Mapped[datetime]
    reason: Mapped[str] = mapped_column(String(16))
