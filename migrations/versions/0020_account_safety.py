"""Account safety: verified emails, a second factor (sealed TOTP secret, recovery codes), sign-ins she can see and
end (last use, browser family, address prefix, when the password was last given), single-use account tokens
(verification, reset, second-factor challenge), known devices, her activity, and mail waiting to be sent.

Revision ID: 0020_account_safety
Revises: 0019_cycle_logs
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

revision = "0020_account_safety"
down_revision = "0019_cycle_logs"
branch_labels = None
depends_on = None


def _user() -> sa.Column:
    return sa.Column("user_id", sa.Uuid(), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True)


def upgrade() -> None:
    """Add the columns and tables; accounts made before verification existed count as verified."""
    op.add_column("users", sa.Column("email_verified_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("users", sa.Column("totp_secret", sa.LargeBinary(), nullable=True))
    op.add_column("users", sa.Column("totp_enabled_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("users", sa.Column("totp_last_step", sa.BigInteger(), nullable=True))
    op.execute("UPDATE users SET email_verified_at = created_at")
    for name, column_type in (
        ("last_used_at", sa.DateTime(timezone=True)),
        ("agent_family", sa.String(32)),
        ("address_prefix", sa.String(64)),
        ("reauthenticated_at", sa.DateTime(timezone=True)),
    ):
        op.add_column("auth_tokens", sa.Column(name, column_type, nullable=True))
    op.create_table(
        "account_tokens",
        sa.Column("id", sa.Uuid(), primary_key=True),
        _user(),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_table(
        "recovery_codes",
        sa.Column("id", sa.BigInteger(), sa.Identity(), primary_key=True),
        _user(),
        sa.Column("code_hash", sa.String(64), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_table(
        "device_tokens",
        sa.Column("id", sa.Uuid(), primary_key=True),
        _user(),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "account_events",
        sa.Column("id", sa.BigInteger(), sa.Identity(), primary_key=True),
        _user(),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("agent_family", sa.String(32), nullable=True),
        sa.Column("address_prefix", sa.String(64), nullable=True),
    )
    op.create_index("ix_account_events_user_at", "account_events", ["user_id", "at"])
    op.create_table(
        "outgoing_mail",
        sa.Column("id", sa.BigInteger(), sa.Identity(), primary_key=True),
        _user(),
        sa.Column("sealed", sa.LargeBinary(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_error", sa.String(200), nullable=True),
    )


def downgrade() -> None:
    """Drop them."""
    for table in ("outgoing_mail", "account_events", "device_tokens", "recovery_codes", "account_tokens"):
        op.drop_table(table)
    for name in ("reauthenticated_at", "address_prefix", "agent_family", "last_used_at"):
        op.drop_column("auth_tokens", name)
    for name in ("totp_last_step", "totp_enabled_at", "totp_secret", "email_verified_at"):
        op.drop_column("users", name)
