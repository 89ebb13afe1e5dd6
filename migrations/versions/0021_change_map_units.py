"""Cell changes are now the change map's scan (vision/change_scan.py: evidence averaged at several scales, read
on the body, one level over all statistics), in noise units calibrated afresh. The changes recorded by the
per-cell quantiles before would skew the floors the scan learns: they are removed, and each user's floor starts
again from the calibrated prior (their sessions' results stay as they were computed).

Revision ID: 0021_change_map_units
Revises: 0020_account_safety
Create Date: 2026-12-03
"""

from alembic import op

revision = "0021_change_map_units"
down_revision = "0020_account_safety"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Forget the cell changes recorded by the per-cell quantiles."""
    op.execute("DELETE FROM region_changes")


def downgrade() -> None:
    """Nothing to restore: the old floors learn again from the old measure's next analyses."""
