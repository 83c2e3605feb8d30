"""check-in: who checked in to a meeting, and the no-show release

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-05

``bookings`` gets the check-in of a meeting (docs/product.md §2): ``checkin_state`` ("" not
yet, "prompted" once the Check in button went out, "checked_in", "late" when someone said the
meeting runs late, "released" once it became a no-show), ``checked_in_at`` and
``checked_in_by``. The clock job claims each step with a conditional update naming the state
it read, so a restart or a second instance neither loses nor doubles a prompt or a release.
The no-show itself is the booking's status ``no_show``, which no longer holds its room.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # plain ALTER TABLE on both backends: a batch would copy the table on SQLite and lose its
    # expression index (ix_bookings_span)
    op.add_column("bookings", sa.Column("checkin_state", sa.String(16), server_default="", nullable=False))
    op.add_column("bookings", sa.Column("checked_in_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("bookings", sa.Column("checked_in_by", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    for column in ("checked_in_by", "checked_in_at", "checkin_state"):
        op.drop_column("bookings", column)  # SQLite ≥ 3.35 drops a column in place
