"""approval timers: a request waiting for approval is reminded, escalated and ends at its start

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-14

``bookings`` gets the state of a request waiting for approval (docs/product.md §2):
``approval_since`` (when it was asked), ``approval_stage`` (0 asked, 1 reminded, 2
escalated) and ``approval_stage_at``, and ``approval_next_at``, the moment the clock job
looks at it next. ``ix_bookings_approval_timer`` (next_at, id of the rows with a timer) lets
the job claim the due ones without reading the table. Requests already waiting when the
database is upgraded count from their last change and are looked at by the first run (their
next moment is set to it), which schedules their reminder from there.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

HAS_TIMER = sa.text("approval_next_at IS NOT NULL")

bookings = sa.table(
    "bookings",
    sa.column("status", sa.String()),
    sa.column("updated_at", sa.DateTime(timezone=True)),
    sa.column("approval_since", sa.DateTime(timezone=True)),
    sa.column("approval_next_at", sa.DateTime(timezone=True)),
)


def upgrade() -> None:
    # plain ALTER TABLE on both backends: a batch would copy the table on SQLite and lose its
    # expression index (ix_bookings_span)
    op.add_column("bookings", sa.Column("approval_since", sa.DateTime(timezone=True), nullable=True))
    op.add_column("bookings", sa.Column("approval_stage", sa.Integer(), server_default="0", nullable=False))
    op.add_column("bookings", sa.Column("approval_stage_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("bookings", sa.Column("approval_next_at", sa.DateTime(timezone=True), nullable=True))
    op.create_index(
        "ix_bookings_approval_timer",
        "bookings",
        ["approval_next_at", "id"],
        unique=False,
        sqlite_where=HAS_TIMER,
        postgresql_where=HAS_TIMER,
    )
    op.execute(
        bookings.update()
        .where(bookings.c.status == "pending")
        .values(approval_since=bookings.c.updated_at, approval_next_at=bookings.c.updated_at)
    )


def downgrade() -> None:
    op.drop_index("ix_bookings_approval_timer", table_name="bookings")
    for column in ("approval_next_at", "approval_stage_at", "approval_stage", "approval_since"):
        op.drop_column("bookings", column)  # SQLite ≥ 3.35 drops a column in place
