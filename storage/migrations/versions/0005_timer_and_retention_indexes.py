"""timer and retention indexes: the tick's partial timer index, processed updates by age

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-12

``ix_tasks_timer`` replaces ``ix_tasks_next_at``: (next_at, id) of the tasks that still have a
timer, the order the tick claims them in, so a claim reads the due rows from the index
instead of every open task sorted; finished tasks (next_at NULL) are left out, so it stays
small however many tasks a year leaves behind. ``ix_processed_updates_at`` lets the retention
job find old update ids without reading the table.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

HAS_TIMER = sa.text("next_at IS NOT NULL")


def upgrade() -> None:
    op.drop_index("ix_tasks_next_at", table_name="tasks")
    op.create_index(
        "ix_tasks_timer",
        "tasks",
        ["next_at", "id"],
        unique=False,
        sqlite_where=HAS_TIMER,
        postgresql_where=HAS_TIMER,
    )
    op.create_index("ix_processed_updates_at", "processed_updates", ["at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_processed_updates_at", table_name="processed_updates")
    op.drop_index("ix_tasks_timer", table_name="tasks")
    op.create_index("ix_tasks_next_at", "tasks", ["next_at"], unique=False)
