"""task events and task messages without foreign keys; two redundant indexes dropped

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-05

The tick writes a task event and a task-message link for every task it pushes, thousands a
second in a restart's catch-up. On PostgreSQL each of those rows fired a foreign-key trigger
that looked its task up again (≈ 15 µs a row, three quarters of those two inserts' time). The
rows are only ever written for a task the same statement has just read (``INSERT … SELECT``
from ``tasks``) and tasks are never deleted (bookings are cancelled, not removed; the clean-up
deletes events and links, never tasks), so the check guarded nothing the code could break:
``task_events`` is an append-only log and ``task_messages`` a lookup of where a task is shown.

Two indexes were the leading column of a unique constraint's own index and cost a write on
every insert (and on PostgreSQL on every non-HOT update of a task): ``ix_tasks_booking_id``
(``uq_tasks_booking_id`` starts with ``booking_id``) and ``ix_task_messages_task_id``
(``uq_task_messages_task_id`` starts with ``task_id``). ``ix_outbox_merged_into_id`` becomes
partial: only the parts of a merged message have a host to be found by, yet every outbox row
got an entry.
"""

import warnings
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

MERGED_PART = sa.text("merged_into_id IS NOT NULL")

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with warnings.catch_warnings():
        # SQLite recreates the two tables; reflecting them reflects what their foreign keys
        # refer to, up to bookings, whose expression index (ix_bookings_span) SQLAlchemy cannot
        # reflect and warns about. Bookings are not recreated, so the index is untouched.
        warnings.filterwarnings("ignore", "Skipped unsupported reflection", sa.exc.SAWarning)
        with op.batch_alter_table("task_events", schema=None) as batch_op:
            batch_op.drop_constraint("fk_task_events_task_id_tasks", type_="foreignkey")
        with op.batch_alter_table("task_messages", schema=None) as batch_op:
            batch_op.drop_index("ix_task_messages_task_id")
            batch_op.drop_constraint("fk_task_messages_task_id_tasks", type_="foreignkey")
    with op.batch_alter_table("tasks", schema=None) as batch_op:
        batch_op.drop_index("ix_tasks_booking_id")
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_merged_into_id")
        batch_op.create_index(
            "ix_outbox_merged_into_id",
            ["merged_into_id"],
            unique=False,
            sqlite_where=MERGED_PART,
            postgresql_where=MERGED_PART,
        )


def downgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_merged_into_id")
        batch_op.create_index("ix_outbox_merged_into_id", ["merged_into_id"], unique=False)
    with op.batch_alter_table("tasks", schema=None) as batch_op:
        batch_op.create_index("ix_tasks_booking_id", ["booking_id"], unique=False)
    with op.batch_alter_table("task_messages", schema=None) as batch_op:
        batch_op.create_foreign_key(
            "fk_task_messages_task_id_tasks", "tasks", ["task_id"], ["id"], ondelete="CASCADE"
        )
        batch_op.create_index("ix_task_messages_task_id", ["task_id"], unique=False)
    with op.batch_alter_table("task_events", schema=None) as batch_op:
        batch_op.create_foreign_key(
            "fk_task_events_task_id_tasks", "tasks", ["task_id"], ["id"], ondelete="CASCADE"
        )
