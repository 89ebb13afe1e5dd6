"""A photo's row in image_embeddings keeps the model's whole output for it: its vector, the mirrored vector
of a right view (symmetry) and the last feature map (the region comparison), so the model runs once per photo,
as it arrives, and the analysis reads the result.

The rows written before held the vector only and nothing read them; they are removed, and the next analysis
of their session computes them again (the angle and session vectors the comparisons read stay as they are).

Feature maps, cell vectors and small copies are stored out of line without compression: pglz gains little on
half floats and pixels, and compressing them made the angle rows' insert 15 ms of a 100 ms analysis (now 3).

Revision ID: 0010_image_features
Revises: 0009_stored_quality
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op
from pgvector.sqlalchemy import Vector

revision = "0010_image_features"
down_revision = "0009_stored_quality"
branch_labels = None
depends_on = None

EMBEDDING_DIM = 1280
UNCOMPRESSED = (("image_embeddings", "feature_map"), ("angle_embeddings", "cells"), ("angle_embeddings", "region_copy"))


def upgrade() -> None:
    """Remove the vector-only rows; add the two columns; store the binary columns uncompressed."""
    op.execute("DELETE FROM image_embeddings")
    op.add_column("image_embeddings", sa.Column("mirrored_embedding", Vector(EMBEDDING_DIM), nullable=True))
    op.add_column("image_embeddings", sa.Column("feature_map", sa.LargeBinary(), nullable=True))
    for table, column in UNCOMPRESSED:
        op.execute(f"ALTER TABLE {table} ALTER COLUMN {column} SET STORAGE EXTERNAL")


def downgrade() -> None:
    """Back to compressed storage; drop the two columns."""
    for table, column in UNCOMPRESSED:
        if column != "feature_map":
            op.execute(f"ALTER TABLE {table} ALTER COLUMN {column} SET STORAGE EXTENDED")
    op.drop_column("image_embeddings", "feature_map")
    op.drop_column("image_embeddings", "mirrored_embedding")
