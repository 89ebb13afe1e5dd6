"""Jobs get a kind: a user's analysis, or an operator's re-embedding under a new model version.

Revision ID: 0004_job_kind
Revises: 0003_quality_measures
Create Date: 2026-11-24
"""

import sqlalchemy as sa
from alembic import op

revision = "0004_job_kind"
down_revision = "0003_quality_measures"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Every existing job was a user's analysis."""
    op.add_column("analysis_jobs", sa.Column("kind", sa.String(length=16), nullable=False, server_default="analysis"))


def downgrade() -> None:
    """Drop the kind again."""
    op.drop_column("analysis_jobs", "kind")
