"""Share links of a session's report (kept as token hashes) and the log of their openings.

Revision ID: 0013_share_links
Revises: 0012_schedule_consents
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

revision = "0013_share_links"
down_revision = "0012_schedule_consents"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create share_links and share_accesses."""
    op.create_table(
        "share_links",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("session_id", sa.Uuid(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("access_count", sa.Integer(), nullable=False),
        sa.Column("last_accessed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name="fk_share_links_user_id_users", ondelete="CASCADE"),
        sa.ForeignKeyConstraint(
            ["session_id"], ["sessions.id"], name="fk_share_links_session_id_sessions", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_share_links"),
        sa.UniqueConstraint("token_hash", name="uq_share_links_token_hash"),
    )
    op.create_index("ix_share_links_user_id", "share_links", ["user_id"])
    op.create_index("ix_share_links_session_id", "share_links", ["session_id"])
    op.create_table(
        "share_accesses",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("share_id", sa.Uuid(), nullable=False),
        sa.Column("opened", sa.String(length=16), nullable=False),
        sa.Column("agent_family", sa.String(length=32), nullable=False),
        sa.Column("accessed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["share_id"], ["share_links.id"], name="fk_share_accesses_share_id_share_links", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_share_accesses"),
    )
    op.create_index("ix_share_accesses_share_id", "share_accesses", ["share_id"])


def downgrade() -> None:
    """Drop them."""
    op.drop_table("share_accesses")
    op.drop_table("share_links")
