"""department membership: invites, requests to move in, failed invite attempts

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-05

Invites are issued by admins (one use, until they expire) instead of the site file's standing
codes; a registered person who opens another department's invite waits for that department's
admin (``membership_requests``); failed attempts are counted per person (``invite_failures``).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "invites",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code_digest", sa.String(length=64), nullable=False),
        sa.Column("code_hint", sa.String(length=8), nullable=False),
        sa.Column("department_id", sa.String(length=64), nullable=False),
        sa.Column("created_by_id", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_by_id", sa.BigInteger(), nullable=True),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_by_id", sa.BigInteger(), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invites")),
        sa.UniqueConstraint("code_digest", name=op.f("uq_invites_code_digest")),
    )
    op.create_index(op.f("ix_invites_department_id"), "invites", ["department_id"], unique=False)

    op.create_table(
        "membership_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("department_id", sa.String(length=64), nullable=False),
        sa.Column("from_department_id", sa.String(length=64), nullable=True),
        sa.Column("invite_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_by_id", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["invite_id"],
            ["invites.id"],
            name=op.f("fk_membership_requests_invite_id_invites"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_membership_requests")),
    )
    op.create_index(
        "ix_membership_requests_user_status", "membership_requests", ["user_id", "status"], unique=False
    )

    op.create_table(
        "invite_failures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.String(length=16), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invite_failures")),
    )
    op.create_index("ix_invite_failures_user_at", "invite_failures", ["user_id", "at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_invite_failures_user_at", table_name="invite_failures")
    op.drop_table("invite_failures")
    op.drop_index("ix_membership_requests_user_status", table_name="membership_requests")
    op.drop_table("membership_requests")
    op.drop_index(op.f("ix_invites_department_id"), table_name="invites")
    op.drop_table("invites")
