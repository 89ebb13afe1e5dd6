"""A person's check-in schedule (with her calendar feed's secret) and her consent ledger.

Revision ID: 0012_schedule_consents
Revises: 0011_region_noise_units
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

revision = "0012_schedule_consents"
down_revision = "0011_region_noise_units"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create schedules and consent_records."""
    op.create_table(
        "schedules",
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("quick_every_days", sa.Integer(), nullable=False),
        sa.Column("full_every_days", sa.Integer(), nullable=False),
        sa.Column("cycle_day", sa.Integer(), nullable=True),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("reminder_time", sa.Time(), nullable=False),
        sa.Column("calendar_nonce", sa.String(length=64), nullable=True),
        sa.Column("calendar_token_hash", sa.String(length=64), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name="fk_schedules_user_id_users", ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("user_id", name="pk_schedules"),
        sa.UniqueConstraint("calendar_token_hash", name="uq_schedules_calendar_token_hash"),
    )
    op.create_table(
        "consent_records",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("version", sa.String(length=16), nullable=False),
        sa.Column("text_sha256", sa.String(length=64), nullable=False),
        sa.Column("accepted", sa.Boolean(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name="fk_consent_records_user_id_users", ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name="pk_consent_records"),
    )
    op.create_index("ix_consent_records_user_id", "consent_records", ["user_id"])
    op.create_index("ix_consent_records_user_kind", "consent_records", ["user_id", "kind", "id"])


def downgrade() -> None:
    """Drop them."""
    op.drop_table("consent_records")
    op.drop_table("schedules")
