"""Logins are limited by failures that were checked: login_failures keeps one row per failure (pending while its
password is being checked, expiring unsettled), replacing login_throttle's counters, which kept an attempt that
was counted but never checked (a database outage mid-login) for the whole window.

Revision ID: 0018_login_failures
Revises: 0017_background_failures
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

revision = "0018_login_failures"
down_revision = "0017_background_failures"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create login_failures, drop login_throttle (counts of at most 15 minutes: nothing to carry over)."""
    op.create_table(
        "login_failures",
        sa.Column("id", sa.BigInteger(), sa.Identity(), primary_key=True),
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("pending", sa.Boolean(), nullable=False, server_default=sa.text("true")),
    )
    op.create_index("ix_login_failures_key_at", "login_failures", ["key", "at"])
    op.drop_table("login_throttle")


def downgrade() -> None:
    """Give login_throttle back, empty."""
    op.create_table(
        "login_throttle",
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("window_started_at", sa.DateTime(timezone=True), nullable=False, index=True),
    )
    op.drop_index("ix_login_failures_key_at", table_name="login_failures")
    op.drop_table("login_failures")
