"""Region comparison: each angle's cell vectors and small copy beside its vector, and every cell change.

Revision ID: 0006_regions
Revises: 0005_typed_result
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

revision = "0006_regions"
down_revision = "0005_typed_result"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add the cells and region_copy columns and the region_changes table."""
    op.add_column("angle_embeddings", sa.Column("cells", sa.LargeBinary(), nullable=True))
    op.add_column("angle_embeddings", sa.Column("region_copy", sa.LargeBinary(), nullable=True))
    op.create_table(
        "region_changes",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("session_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("angle", sa.String(length=16), nullable=False),
        sa.Column("reference", sa.String(length=16), nullable=False),
        sa.Column("row", sa.Integer(), nullable=False),
        sa.Column("col", sa.Integer(), nullable=False),
        sa.Column("change", sa.Float(), nullable=False),
        sa.Column("exceeds", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["session_id"], ["sessions.id"], name="fk_region_changes_session_id_sessions", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name="fk_region_changes_user_id_users", ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name="pk_region_changes"),
    )
    op.create_index("ix_region_changes_session_id", "region_changes", ["session_id"])
    op.create_index("ix_region_changes_user_id", "region_changes", ["user_id"])
    op.create_index("ix_region_changes_user_angle_created", "region_changes", ["user_id", "angle", "created_at"])


def downgrade() -> None:
    """Drop them again."""
    op.drop_table("region_changes")
    op.drop_column("angle_embeddings", "region_copy")
    op.drop_column("angle_embeddings", "cells")
