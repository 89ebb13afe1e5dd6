"""A photo whose background step (model output, comparison with the baseline) raised is marked with the step, so an
operator can find it and the analysis knows to compute (or leave unregistered) that view itself.

Revision ID: 0017_background_failures
Revises: 0016_no_photo_feature_maps
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

revision = "0017_background_failures"
down_revision = "0016_no_photo_feature_maps"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add images.background_failure."""
    op.add_column("images", sa.Column("background_failure", sa.String(32), nullable=True))


def downgrade() -> None:
    """Drop it."""
    op.drop_column("images", "background_failure")
