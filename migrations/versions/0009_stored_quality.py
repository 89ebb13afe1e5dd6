"""An image keeps its whole measured quality (blur effect and retake hints too), so the analysis reads it
instead of measuring again; older rows are measured again once, at their next analysis.

Revision ID: 0009_stored_quality
Revises: 0008_running_aggregates
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

revision = "0009_stored_quality"
down_revision = "0008_running_aggregates"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add the two columns."""
    op.add_column("images", sa.Column("blur_effect", sa.Float(), nullable=True))
    op.add_column("images", sa.Column("hints", sa.JSON(), nullable=True))


def downgrade() -> None:
    """Drop them."""
    op.drop_column("images", "hints")
    op.drop_column("images", "blur_effect")
