"""A photo's own feature map is no longer kept: the region comparison pools its cells from the photo brought onto
the baseline (photo_comparisons), so image_embeddings keeps the vectors only (125 KB a photo less).

Revision ID: 0016_no_photo_feature_maps
Revises: 0015_photo_comparisons
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

revision = "0016_no_photo_feature_maps"
down_revision = "0015_photo_comparisons"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Drop image_embeddings.feature_map."""
    op.drop_column("image_embeddings", "feature_map")


def downgrade() -> None:
    """Give the column back, empty (nothing reads it)."""
    op.add_column("image_embeddings", sa.Column("feature_map", sa.LargeBinary(), nullable=True))
