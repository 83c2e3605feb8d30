"""outbox rows record what to show; files go through the outbox; the sender reads by index

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-12

An outbox row now records the notice (``notice``, ``params``, ``language``) and the sender
renders it when it sends; ``text`` is what it showed then (NULL until it is sent).
``ix_outbox_open`` (chat, id of the unfinished rows) lets the sender walk the chats with
something to send and read each one's rows in order; ``ix_outbox_pending_edits`` finds the
edits waiting for a message. They replace ``ix_outbox_pending`` (status, chat, id), which
SQLite without statistics would choose for any "status = 'pending'" and read every waiting
row. The weekly chart and spreadsheet are outbox rows too, so
``file_deliveries`` goes: its waiting rows become outbox rows.
"""

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OPEN = sa.text("status IN ('pending', 'sending')")
PENDING_EDIT = sa.text("kind = 'edit' AND status = 'pending'")

file_deliveries = sa.table(
    "file_deliveries",
    sa.column("dedupe_key", sa.String()),
    sa.column("chat_id", sa.BigInteger()),
    sa.column("kind", sa.String()),
    sa.column("params", sa.JSON()),
    sa.column("status", sa.String()),
    sa.column("created_at", sa.DateTime(timezone=True)),
)
outbox = sa.table(
    "outbox",
    sa.column("chat_id", sa.BigInteger()),
    sa.column("kind", sa.String()),
    sa.column("notice", sa.String()),
    sa.column("params", sa.JSON()),
    sa.column("text", sa.Text()),
    sa.column("mergeable", sa.Boolean()),
    sa.column("dedupe_key", sa.String()),
    sa.column("status", sa.String()),
    sa.column("attempts", sa.Integer()),
    sa.column("not_before", sa.DateTime(timezone=True)),
    sa.column("created_at", sa.DateTime(timezone=True)),
    sa.column("error", sa.Text()),
)


def upgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("notice", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("params", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("language", sa.String(length=8), nullable=True))
        batch_op.alter_column("text", existing_type=sa.Text(), nullable=True)
    # after the batch: SQLite's table copy would not keep the partial indexes' conditions
    op.drop_index("ix_outbox_pending", table_name="outbox")
    op.create_index(
        "ix_outbox_open",
        "outbox",
        ["chat_id", "id", "status"],
        unique=False,
        sqlite_where=OPEN,
        postgresql_where=OPEN,
    )
    op.create_index(
        "ix_outbox_pending_edits",
        "outbox",
        ["edit_of_id"],
        unique=False,
        sqlite_where=PENDING_EDIT,
        postgresql_where=PENDING_EDIT,
    )
    _move_waiting_files()
    with op.batch_alter_table("file_deliveries", schema=None) as batch_op:
        batch_op.drop_index("ix_file_deliveries_pending")
    op.drop_table("file_deliveries")


def _move_waiting_files() -> None:
    """A weekly briefing still waiting in ``file_deliveries`` goes out through the outbox."""
    connection = op.get_bind()
    waiting = connection.execute(
        sa.select(
            file_deliveries.c.dedupe_key,
            file_deliveries.c.chat_id,
            file_deliveries.c.kind,
            file_deliveries.c.params,
        ).where(file_deliveries.c.status == "pending")
    ).all()
    now = datetime.now(UTC)
    if connection.dialect.name == "sqlite":
        now = now.replace(tzinfo=None)  # stored as naive UTC there (storage.models.UTCDateTime)
    rows: list[dict[str, Any]] = []
    for dedupe_key, chat_id, kind, params in waiting:
        if kind != "weekly":
            continue
        params = dict(params or {})
        week = {"week": params.get("week")}
        parts = [("weekly_workbook", "workbook")]
        if not params.get("photo_sent"):
            parts.insert(0, ("weekly_chart", "chart"))
        for notice, suffix in parts:
            rows.append(
                {
                    "chat_id": chat_id,
                    "kind": "send",
                    "notice": notice,
                    "params": week,
                    "mergeable": False,
                    "dedupe_key": f"{dedupe_key}:{suffix}",
                    "status": "pending",
                    "attempts": 0,
                    "not_before": now,
                    "created_at": now,
                }
            )
    if rows:
        connection.execute(sa.insert(outbox), rows)


def downgrade() -> None:
    op.create_table(
        "file_deliveries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("dedupe_key", sa.String(length=128), nullable=False),
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("not_before", sa.DateTime(timezone=True), nullable=False),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_file_deliveries")),
        sa.UniqueConstraint("dedupe_key", name=op.f("uq_file_deliveries_dedupe_key")),
    )
    with op.batch_alter_table("file_deliveries", schema=None) as batch_op:
        batch_op.create_index("ix_file_deliveries_pending", ["status", "not_before"], unique=False)
    op.drop_index("ix_outbox_pending_edits", table_name="outbox")
    op.drop_index("ix_outbox_open", table_name="outbox")
    op.create_index("ix_outbox_pending", "outbox", ["status", "chat_id", "id"], unique=False)
    # the older sender sends the stored text: a waiting notice has none, so it is failed
    # (and said why) rather than sent empty
    op.execute(
        outbox.update()
        .where(outbox.c.text.is_(None), outbox.c.status.in_(("pending", "sending")))
        .values(status="failed", error="not rendered: the database was downgraded")
    )
    op.execute(outbox.update().where(outbox.c.text.is_(None)).values(text=""))
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.alter_column("text", existing_type=sa.Text(), nullable=False)
        batch_op.drop_column("language")
        batch_op.drop_column("params")
        batch_op.drop_column("notice")
