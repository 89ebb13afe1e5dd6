"""Per-user data keys, wrapped by a versioned master key: photos, working copies, display copies, region copies
and feature maps are sealed with them from now on (older plain objects are sealed by `flask bcd seal-existing`).

Revision ID: 0014_user_keys
Revises: 0013_share_links
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

revision = "0014_user_keys"
down_revision = "0013_share_links"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create user_keys."""
    op.create_table(
        "user_keys",
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("wrapped", sa.LargeBinary(), nullable=False),
        sa.Column("master_version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name="fk_user_keys_user_id_users", ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("user_id", name="pk_user_keys"),
    )
    op.create_index("ix_user_keys_master_version", "user_keys", ["master_version"])


def downgrade() -> None:
    """Drop it (every sealed object becomes unreadable: only for an empty database)."""
    op.drop_table("user_keys")
