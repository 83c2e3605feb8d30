"""monthly statements: one row per department and month, with its Accept or Dispute

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-05

``statements`` keeps each department's monthly statement (docs/product.md §5) once it is
queued: which department and month (unique together, so a second instance or a restart
sends nothing twice), who it went to, and the answer (``accepted``, or ``disputed`` with the
reason). The run itself is claimed in ``clock_runs`` (``statements`` + the month), like the
weekly briefing.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "statements",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("department_id", sa.String(length=64), nullable=False),
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("recipients", sa.JSON(), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_by_id", sa.BigInteger(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("dispute_reason", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_statements")),
        sa.UniqueConstraint("department_id", "month", name=op.f("uq_statements_department_id")),
    )


def downgrade() -> None:
    op.drop_table("statements")
