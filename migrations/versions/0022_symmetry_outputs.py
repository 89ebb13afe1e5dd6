"""A photo's kept model output as taken is what the symmetry score reads, one forward pass each: a left view's
vector, a right view's mirrored vector (bench/service_bench.py: the passes of a six-angle session go from seven to
two). A right view's row has no vector of its own now; the rows of other angles are never read and are removed.

Revision ID: 0022_symmetry_outputs
Revises: 0021_change_map_units
Create Date: 2026-12-03
"""

from alembic import op

revision = "0022_symmetry_outputs"
down_revision = "0021_change_map_units"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Let a right view's row go without its own vector; remove the rows of angles the symmetry does not read."""
    op.alter_column("image_embeddings", "embedding", nullable=True)
    op.execute(
        "DELETE FROM image_embeddings USING images "
        "WHERE images.id = image_embeddings.image_id AND images.angle NOT IN ('left', 'right')"
    )


def downgrade() -> None:
    """Rows without a vector go (the analysis computes what it misses); the column is required again."""
    op.execute("DELETE FROM image_embeddings WHERE embedding IS NULL")
    op.alter_column("image_embeddings", "embedding", nullable=False)
