"""Phase 5: embeddings move from JSON to pgvector, quality/confidence columns, jobs, quota and logs.

Every JSON embedding is copied into its `vector(1280)` column before the JSON is dropped;
the downgrade copies the vectors back into JSON.

Revision ID: 0002_phase5_pgvector
Revises: 0001_initial
Create Date: 2026-11-24
"""

import sqlalchemy as sa
from alembic import op
from pgvector.sqlalchemy import Vector

revision = "0002_phase5_pgvector"
down_revision = "0001_initial"
branch_labels = None
depends_on = None

# Fixed here on purpose: a migration must not change when the app's constant does.
EMBEDDING_DIM = 1280
LEGACY_MODEL_NAME = "efficientnet-lite0"
LEGACY_MODEL_VERSION = "efficientnet-lite0-imagenet-v1"
TZ = sa.DateTime(timezone=True)
EMBEDDING_TABLES = ("session_embeddings", "angle_embeddings")


def _fk(column: str, table: str, source: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint([column], [f"{table}.id"], name=f"fk_{source}_{column}_{table}", ondelete="CASCADE")


def _hnsw(table: str) -> None:
    op.create_index(
        f"ix_{table}_hnsw",
        table,
        ["embedding"],
        postgresql_using="hnsw",
        postgresql_ops={"embedding": "vector_cosine_ops"},
    )


def _add_with_backfill(table: str, column: sa.Column, value: str) -> None:
    """Add a NOT NULL column, filling existing rows with `value`."""
    op.add_column(table, sa.Column(column.name, column.type, nullable=False, server_default=sa.text(value)))
    op.alter_column(table, column.name, server_default=None)


def upgrade() -> None:
    """JSON embeddings -> vector, then the phase-5 columns and tables."""
    op.execute("CREATE EXTENSION IF NOT EXISTS vector")
    for table in EMBEDDING_TABLES:
        op.add_column(table, sa.Column("embedding_vector", Vector(EMBEDDING_DIM), nullable=True))
        # A JSON array's text form, '[0.1, 0.2, ...]', is exactly pgvector's input format.
        op.execute(f"UPDATE {table} SET embedding_vector = embedding::text::vector")
        op.drop_column(table, "embedding")
        op.alter_column(table, "embedding_vector", new_column_name="embedding", nullable=False)
        _add_with_backfill(table, sa.Column("model_name", sa.String(64)), f"'{LEGACY_MODEL_NAME}'")
        _add_with_backfill(table, sa.Column("model_version", sa.String(64)), f"'{LEGACY_MODEL_VERSION}'")
        _add_with_backfill(table, sa.Column("dim", sa.Integer()), str(EMBEDDING_DIM))
        _hnsw(table)
    op.create_unique_constraint(
        "uq_session_embeddings_session_model", "session_embeddings", ["session_id", "model_version"]
    )
    op.create_unique_constraint(
        "uq_angle_embeddings_session_angle_model", "angle_embeddings", ["session_id", "angle", "model_version"]
    )
    op.create_index("ix_angle_embeddings_user_angle", "angle_embeddings", ["user_id", "angle", "model_version"])

    for column in ("analysis_confidence_score", "session_quality_score", "consistency_score"):
        _add_with_backfill("session_analysis", sa.Column(column, sa.Float()), "0")
    _add_with_backfill("session_analysis", sa.Column("model_version", sa.String(64)), f"'{LEGACY_MODEL_VERSION}'")
    _add_with_backfill("angle_analysis", sa.Column("angle_quality_score", sa.Float()), "0")

    op.create_table(
        "image_embeddings",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("image_id", sa.Uuid(), nullable=False),
        sa.Column("model_version", sa.String(64), nullable=False),
        sa.Column("embedding", Vector(EMBEDDING_DIM), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        _fk("image_id", "images", "image_embeddings"),
        sa.PrimaryKeyConstraint("id", name="pk_image_embeddings"),
        sa.UniqueConstraint("image_id", "model_version", name="uq_image_embeddings_image_model"),
    )
    op.create_index("ix_image_embeddings_image_id", "image_embeddings", ["image_id"])

    op.create_table(
        "analysis_jobs",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("session_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("locked_by", sa.String(128), nullable=True),
        sa.Column("lease_expires_at", TZ, nullable=True),
        sa.Column("run_after", TZ, nullable=False),
        sa.Column("progress_done", sa.Integer(), nullable=False),
        sa.Column("progress_total", sa.Integer(), nullable=False),
        sa.Column("stage", sa.String(32), nullable=False),
        sa.Column("error_code", sa.String(64), nullable=True),
        sa.Column("error_message", sa.Text(), nullable=True),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("updated_at", TZ, nullable=False),
        sa.Column("started_at", TZ, nullable=True),
        sa.Column("finished_at", TZ, nullable=True),
        _fk("session_id", "sessions", "analysis_jobs"),
        _fk("user_id", "users", "analysis_jobs"),
        sa.PrimaryKeyConstraint("id", name="pk_analysis_jobs"),
        sa.UniqueConstraint("session_id", name="uq_analysis_jobs_session_id"),
    )
    op.create_index("ix_analysis_jobs_user_id", "analysis_jobs", ["user_id"])
    op.create_index("ix_analysis_jobs_status_run_after", "analysis_jobs", ["status", "run_after"])

    op.create_table(
        "analysis_requests",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("session_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        _fk("user_id", "users", "analysis_requests"),
        sa.PrimaryKeyConstraint("id", name="pk_analysis_requests"),
    )
    op.create_index("ix_analysis_requests_user_id", "analysis_requests", ["user_id"])
    op.create_index("ix_analysis_requests_user_created", "analysis_requests", ["user_id", "created_at"])

    op.create_table(
        "analysis_logs",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("session_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("processing_time", sa.Float(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_at", TZ, nullable=False),
        _fk("session_id", "sessions", "analysis_logs"),
        _fk("user_id", "users", "analysis_logs"),
        sa.PrimaryKeyConstraint("id", name="pk_analysis_logs"),
    )
    op.create_index("ix_analysis_logs_session_id", "analysis_logs", ["session_id"])
    op.create_index("ix_analysis_logs_user_id", "analysis_logs", ["user_id"])


def downgrade() -> None:
    """Back to JSON embeddings; phase-5 tables and columns go."""
    for table in ("analysis_logs", "analysis_requests", "analysis_jobs", "image_embeddings"):
        op.drop_table(table)
    op.drop_column("angle_analysis", "angle_quality_score")
    for column in ("model_version", "consistency_score", "session_quality_score", "analysis_confidence_score"):
        op.drop_column("session_analysis", column)
    op.drop_index("ix_angle_embeddings_user_angle", "angle_embeddings")
    op.drop_constraint("uq_angle_embeddings_session_angle_model", "angle_embeddings", type_="unique")
    op.drop_constraint("uq_session_embeddings_session_model", "session_embeddings", type_="unique")
    for table in EMBEDDING_TABLES:
        op.drop_index(f"ix_{table}_hnsw", table)
        op.add_column(table, sa.Column("embedding_json", sa.JSON(), nullable=True))
        op.execute(f"UPDATE {table} SET embedding_json = embedding::text::json")
        op.drop_column(table, "embedding")
        op.alter_column(table, "embedding_json", new_column_name="embedding", nullable=False)
        for column in ("dim", "model_version", "model_name"):
            op.drop_column(table, column)
