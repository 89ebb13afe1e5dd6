"""Two more stored image measures: chroma noise and JPEG blockiness.

Revision ID: 0003_quality_measures
Revises: 0002_phase5_pgvector
Create Date: 2026-11-24
"""

import sqlalchemy as sa
from alembic import op

revision = "0003_quality_measures"
down_revision = "0002_phase5_pgvector"
branch_labels = None
depends_on = None

COLUMNS = ("chroma_noise", "blockiness")


def upgrade() -> None:
    """Add the nullable columns (images measured before stay NULL until re-analysed)."""
    for name in COLUMNS:
        op.add_column("images", sa.Column(name, sa.Float(), nullable=True))


def downgrade() -> None:
    """Drop them again."""
    for name in COLUMNS:
        op.drop_column("images", name)
