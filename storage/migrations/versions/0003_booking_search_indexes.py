"""indexes for the free-room search and the overlap check

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24

``ix_bookings_status_start`` finds the active bookings that start in a window (with what the
search needs); ``ix_bookings_span`` finds the few that hold a room longer than a bound. The span
is an expression index: SQLAlchemy cannot reflect it on SQLite, so a later batch migration that
recreates ``bookings`` on SQLite must create it again.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _span() -> str:
    """The expression of ``storage.models.booking_span`` as each backend compiles it."""
    if op.get_bind().dialect.name == "sqlite":
        return "(julianday(blocked_until) - julianday(start_at))"
    return "(blocked_until - start_at)"


def upgrade() -> None:
    op.create_index(
        "ix_bookings_status_start",
        "bookings",
        ["status", "start_at", "blocked_until", "room_id"],
        unique=False,
    )
    op.create_index("ix_bookings_span", "bookings", [sa.text(_span())], unique=False)


def downgrade() -> None:
    op.drop_index("ix_bookings_span", table_name="bookings")
    op.drop_index("ix_bookings_status_start", table_name="bookings")
