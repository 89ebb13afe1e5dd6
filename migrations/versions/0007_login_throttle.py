"""Login attempts counted in PostgreSQL, per account and per address, exact across workers and servers.

Revision ID: 0007_login_throttle
Revises: 0006_regions
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

revision = "0007_login_throttle"
down_revision = "0006_regions"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create login_throttle."""
    op.create_table(
        "login_throttle",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("window_started_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name="pk_login_throttle"),
    )
    op.create_index("ix_login_throttle_window_started_at", "login_throttle", ["window_started_at"])


def downgrade() -> None:
    """Drop it."""
    op.drop_table("login_throttle")
