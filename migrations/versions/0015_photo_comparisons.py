"""Photos compared with the baseline as they arrive: the analysis reads the outcome instead of computing it.

Revision ID: 0015_photo_comparisons
Revises: 0014_user_keys
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op
from pgvector.sqlalchemy import Vector

revision = "0015_photo_comparisons"
down_revision = "0014_user_keys"
branch_labels = None
depends_on = None

EMBEDDING_DIM = 1280


def upgrade() -> None:
    """Create photo_comparisons."""
    op.create_table(
        "photo_comparisons",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("image_id", sa.Uuid(), nullable=False),
        sa.Column("reference_image_id", sa.Uuid(), nullable=False),
        sa.Column("model_version", sa.String(length=64), nullable=False),
        sa.Column("method", sa.String(length=32), nullable=False),
        sa.Column("alignment", sa.JSON(), nullable=False),
        sa.Column("cells", sa.JSON(), nullable=False),
        sa.Column("embedding", Vector(EMBEDDING_DIM), nullable=True),
        sa.Column("cell_vectors", sa.LargeBinary(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["image_id"], ["images.id"], name="fk_photo_comparisons_image_id_images", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["reference_image_id"],
            ["images.id"],
            name="fk_photo_comparisons_reference_image_id_images",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_photo_comparisons"),
        sa.UniqueConstraint(
            "image_id", "reference_image_id", "model_version", "method", name="uq_photo_comparisons_key"
        ),
    )
    op.create_index("ix_photo_comparisons_image_id", "photo_comparisons", ["image_id"])
    op.create_index("ix_photo_comparisons_reference_image_id", "photo_comparisons", ["reference_image_id"])


def downgrade() -> None:
    """Drop it (the analysis computes what it misses)."""
    op.drop_table("photo_comparisons")
