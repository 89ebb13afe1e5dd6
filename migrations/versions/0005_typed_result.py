"""The analysis result gets one typed definition: write-only copies of its fields leave the tables.

session_analysis keeps change_score, analysis_confidence_score, session_quality_score (history,
trend and confidence query them) and model_version (re-embedding); angle_analysis keeps
change_score and angle_quality_score (compare-sessions). Results stored in the old shape are
re-computed in the background from the kept images, as a re-embedding (no quota is spent).

Revision ID: 0005_typed_result
Revises: 0004_job_kind
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

revision = "0005_typed_result"
down_revision = "0004_job_kind"
branch_labels = None
depends_on = None

SESSION_COLUMNS = (
    ("variation_level", sa.String(length=32)),
    ("trend_score", sa.Float()),
    ("consistency_score", sa.Float()),
    ("baseline_session_id", sa.Uuid()),
    ("analysis_version", sa.String(length=16)),
    ("processing_time_ms", sa.Float()),
)
ANGLE_COLUMNS = (
    ("variation_level", sa.String(length=32)),
    ("image_count", sa.Integer()),
    ("comparisons", sa.JSON()),
    ("summary", sa.Text()),
)


def upgrade() -> None:
    """Re-queue old-shape results, then drop the columns nothing reads."""
    op.execute(
        """
        UPDATE analysis_jobs SET kind = 'reembed', status = 'queued', stage = 'queued', attempts = 0,
            locked_by = NULL, lease_expires_at = NULL, run_after = now(), updated_at = now()
        WHERE session_id IN (SELECT session_id FROM session_analysis WHERE NOT (result::jsonb ? 'interpretation'))
        """
    )
    op.execute("DELETE FROM session_analysis WHERE NOT (result::jsonb ? 'interpretation')")
    for name, _ in SESSION_COLUMNS:
        op.drop_column("session_analysis", name)
    for name, _ in ANGLE_COLUMNS:
        op.drop_column("angle_analysis", name)


def downgrade() -> None:
    """Add the columns back, empty (their values were copies of the stored result)."""
    for name, kind in SESSION_COLUMNS:
        op.add_column("session_analysis", sa.Column(name, kind, nullable=True))
    for name, kind in ANGLE_COLUMNS:
        op.add_column("angle_analysis", sa.Column(name, kind, nullable=True))
