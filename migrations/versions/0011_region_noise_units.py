"""Cell changes are now measured in noise units (each evidence divided by its re-capture noise, after the photo
is registered with a homography and a dense flow and its light field removed), no longer in colour-difference
units. The recorded changes of the old measure would skew the floors the new one learns: they are removed, and
each user's floor starts again from the calibrated prior (their sessions' results stay as they were computed).

Revision ID: 0011_region_noise_units
Revises: 0010_image_features
Create Date: 2026-11-29
"""

from alembic import op

revision = "0011_region_noise_units"
down_revision = "0010_image_features"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Forget the cell changes recorded in the old units."""
    op.execute("DELETE FROM region_changes")


def downgrade() -> None:
    """Nothing to restore: the old floors learn again from the old measure's next analyses."""
