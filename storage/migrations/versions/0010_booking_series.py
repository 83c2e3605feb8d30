"""booking series: a booking that repeats, and each meeting's place in it

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-05

``booking_series`` keeps the rule of a recurring booking (docs/product.md §2) as JSON, who
made it for which department, and how many meetings the rule gave. Each meeting stays an
ordinary row of ``bookings`` (its own tasks, cards, approval timer and check-in) and points
to its series with ``series_id`` (indexed: /my and "this and following" read a series'
meetings) and ``series_index`` (0 is the first meeting).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "booking_series",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("rule", sa.JSON(), nullable=False),
        sa.Column("department_id", sa.String(length=64), nullable=False),
        sa.Column("requester_id", sa.BigInteger(), nullable=False),
        sa.Column("booked_by_id", sa.BigInteger(), nullable=False),
        sa.Column("occurrences", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_booking_series")),
    )
    # plain ALTER TABLE on both backends, the reference written inline (SQLite cannot add a
    # constraint later): a batch would copy the table on SQLite and lose its expression index
    # (ix_bookings_span)
    op.add_column(
        "bookings",
        sa.Column(
            "series_id",
            sa.Integer(),
            sa.ForeignKey("booking_series.id", name=op.f("fk_bookings_series_id_booking_series")),
            nullable=True,
        ),
        inline_references=True,
    )
    op.add_column("bookings", sa.Column("series_index", sa.Integer(), nullable=True))
    op.create_index(op.f("ix_bookings_series_id"), "bookings", ["series_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_bookings_series_id"), table_name="bookings")
    for column in ("series_index", "series_id"):
        op.drop_column("bookings", column)  # SQLite ≥ 3.35 drops a column in place
    op.drop_table("booking_series")
