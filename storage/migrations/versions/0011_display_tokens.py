"""door display tokens issued in chat

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-05

``display_tokens`` keeps, per room, the digest of the door-display token a site admin issued
with ``/display <room>`` (docs/product.md §2). A room's issued token replaces the site file's
``display_token``; rooms without a row keep the site file's.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "display_tokens",
        sa.Column("room_id", sa.String(length=64), nullable=False),
        sa.Column("token_digest", sa.String(length=64), nullable=False),
        sa.Column("issued_by_id", sa.BigInteger(), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("room_id", name=op.f("pk_display_tokens")),
    )


def downgrade() -> None:
    op.drop_table("display_tokens")
