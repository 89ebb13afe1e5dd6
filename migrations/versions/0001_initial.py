"""Initial schema (before phase 5): accounts, sessions, images, analyses, embeddings stored as JSON.

Revision ID: 0001_initial
Revises:
Create Date: 2026-11-24
"""

import sqlalchemy as sa
from alembic import op

revision = "0001_initial"
down_revision = None
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def _id() -> sa.Column:
    return sa.Column("id", sa.Uuid(), nullable=False)


def _fk(column: str, table: str, source: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint([column], [f"{table}.id"], name=f"fk_{source}_{column}_{table}", ondelete="CASCADE")


def upgrade() -> None:
    """Create the pre-phase-5 tables."""
    op.create_table(
        "users",
        _id(),
        sa.Column("email", sa.String(254), nullable=False),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_users"),
        sa.UniqueConstraint("email", name="uq_users_email"),
    )
    op.create_table(
        "auth_tokens",
        _id(),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("expires_at", TZ, nullable=False),
        sa.Column("revoked_at", TZ, nullable=True),
        _fk("user_id", "users", "auth_tokens"),
        sa.PrimaryKeyConstraint("id", name="pk_auth_tokens"),
        sa.UniqueConstraint("token_hash", name="uq_auth_tokens_token_hash"),
    )
    op.create_index("ix_auth_tokens_user_id", "auth_tokens", ["user_id"])
    op.create_table(
        "sessions",
        _id(),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("session_type", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("is_baseline", sa.Boolean(), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("completed_at", TZ, nullable=True),
        _fk("user_id", "users", "sessions"),
        sa.PrimaryKeyConstraint("id", name="pk_sessions"),
    )
    op.create_index("ix_sessions_user_id", "sessions", ["user_id"])
    op.create_index("ix_sessions_user_created", "sessions", ["user_id", "created_at"])
    op.create_index(
        "uq_sessions_one_baseline", "sessions", ["user_id"], unique=True, postgresql_where=sa.text("is_baseline")
    )
    op.create_table(
        "images",
        _id(),
        sa.Column("session_id", sa.Uuid(), nullable=False),
        sa.Column("angle", sa.String(16), nullable=False),
        sa.Column("storage_key", sa.String(128), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("format", sa.String(16), nullable=False),
        *[
            sa.Column(name, sa.Float(), nullable=True)
            for name in ("blur_variance", "brightness", "contrast", "clipped_dark", "clipped_bright", "noise_sigma")
        ],
        *[
            sa.Column(name, sa.Boolean(), nullable=True)
            for name in ("is_blurry", "is_too_dark", "is_too_bright", "low_confidence")
        ],
        sa.Column("brightness_correction", sa.Float(), nullable=True),
        sa.Column("image_quality_score", sa.Float(), nullable=True),
        sa.Column("created_at", TZ, nullable=False),
        _fk("session_id", "sessions", "images"),
        sa.PrimaryKeyConstraint("id", name="pk_images"),
        sa.UniqueConstraint("storage_key", name="uq_images_storage_key"),
    )
    op.create_index("ix_images_session_id", "images", ["session_id"])
    op.create_table(
        "session_analysis",
        _id(),
        sa.Column("session_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("change_score", sa.Float(), nullable=True),
        sa.Column("variation_level", sa.String(32), nullable=True),
        sa.Column("trend_score", sa.Float(), nullable=True),
        sa.Column("baseline_session_id", sa.Uuid(), nullable=True),
        sa.Column("analysis_version", sa.String(16), nullable=False),
        sa.Column("processing_time_ms", sa.Float(), nullable=False),
        sa.Column("result", sa.JSON(), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        _fk("session_id", "sessions", "session_analysis"),
        _fk("user_id", "users", "session_analysis"),
        sa.PrimaryKeyConstraint("id", name="pk_session_analysis"),
        sa.UniqueConstraint("session_id", name="uq_session_analysis_session_id"),
    )
    op.create_index("ix_session_analysis_user_id", "session_analysis", ["user_id"])
    op.create_table(
        "angle_analysis",
        _id(),
        sa.Column("session_id", sa.Uuid(), nullable=False),
        sa.Column("angle", sa.String(16), nullable=False),
        sa.Column("change_score", sa.Float(), nullable=True),
        sa.Column("variation_level", sa.String(32), nullable=True),
        sa.Column("image_count", sa.Integer(), nullable=False),
        sa.Column("comparisons", sa.JSON(), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        _fk("session_id", "sessions", "angle_analysis"),
        sa.PrimaryKeyConstraint("id", name="pk_angle_analysis"),
        sa.UniqueConstraint("session_id", "angle", name="uq_angle_analysis_session_angle"),
    )
    op.create_index("ix_angle_analysis_session_id", "angle_analysis", ["session_id"])
    op.create_table(
        "session_embeddings",
        _id(),
        sa.Column("session_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("embedding", sa.JSON(), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        _fk("session_id", "sessions", "session_embeddings"),
        _fk("user_id", "users", "session_embeddings"),
        sa.PrimaryKeyConstraint("id", name="pk_session_embeddings"),
    )
    op.create_index("ix_session_embeddings_session_id", "session_embeddings", ["session_id"])
    op.create_index("ix_session_embeddings_user_id", "session_embeddings", ["user_id"])
    op.create_table(
        "angle_embeddings",
        _id(),
        sa.Column("session_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("angle", sa.String(16), nullable=False),
        sa.Column("embedding", sa.JSON(), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        _fk("session_id", "sessions", "angle_embeddings"),
        _fk("user_id", "users", "angle_embeddings"),
        sa.PrimaryKeyConstraint("id", name="pk_angle_embeddings"),
    )
    op.create_index("ix_angle_embeddings_session_id", "angle_embeddings", ["session_id"])
    op.create_index("ix_angle_embeddings_user_id", "angle_embeddings", ["user_id"])


def downgrade() -> None:
    """Drop everything."""
    for table in (
        "angle_embeddings",
        "session_embeddings",
        "angle_analysis",
        "session_analysis",
        "images",
        "sessions",
        "auth_tokens",
        "users",
    ):
        op.drop_table(table)
