"""The cycle log moves server-side: cycle_logs keeps one row per person and day (her free text sealed with her
key); schedules.cycle_check_day is the day of her cycle full check-ins go to; share_links.include_cycle_notes
lets a report show the symptoms and notes of the days of its sessions.

Revision ID: 0019_cycle_logs
Revises: 0018_login_failures
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0019_cycle_logs"
down_revision = "0018_login_failures"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create cycle_logs; add the two columns (existing schedules get the default check day, existing links no
    notes)."""
    op.create_table(
        "cycle_logs",
        sa.Column("user_id", sa.Uuid(), sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("day", sa.Date(), primary_key=True),
        sa.Column("phase", sa.String(16), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=True),
        sa.Column("cycle_length", sa.Integer(), nullable=True),
        sa.Column("symptoms", postgresql.ARRAY(sa.String(16)), nullable=False),
        sa.Column("sealed_text", sa.LargeBinary(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.add_column("schedules", sa.Column("cycle_check_day", sa.Integer(), nullable=True))
    op.execute("UPDATE schedules SET cycle_check_day = 7")
    op.add_column(
        "share_links",
        sa.Column("include_cycle_notes", sa.Boolean(), nullable=False, server_default=sa.text("false")),
    )


def downgrade() -> None:
    """Drop them (the log goes with its table)."""
    op.drop_column("share_links", "include_cycle_notes")
    op.drop_column("schedules", "cycle_check_day")
    op.drop_table("cycle_logs")
