"""Comparisons whose cost does not grow: running per-user, per-angle, per-model sums for the lifetime layer,
each angle vector's session time for index-bounded rolling and monthly windows, and no HNSW indexes (no
query searches nearest neighbours; every insert paid for them).

Revision ID: 0008_running_aggregates
Revises: 0007_login_throttle
Create Date: 2026-11-25
"""

import numpy as np
import sqlalchemy as sa
from alembic import op
from pgvector.sqlalchemy import Vector

revision = "0008_running_aggregates"
down_revision = "0007_login_throttle"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add the column and the table, fill both from the vectors kept, drop the unused indexes."""
    op.add_column("angle_embeddings", sa.Column("session_created_at", sa.DateTime(timezone=True), nullable=True))
    op.execute(
        "UPDATE angle_embeddings ae SET session_created_at = s.created_at FROM sessions s WHERE s.id = ae.session_id"
    )
    op.alter_column("angle_embeddings", "session_created_at", nullable=False)
    op.drop_index("ix_angle_embeddings_user_angle", "angle_embeddings")
    op.create_index(
        "ix_angle_embeddings_user_angle_time",
        "angle_embeddings",
        ["user_id", "angle", "model_version", "session_created_at", "session_id"],
    )
    op.drop_index("ix_angle_embeddings_hnsw", "angle_embeddings")
    op.drop_index("ix_session_embeddings_hnsw", "session_embeddings")
    aggregates = op.create_table(
        "angle_aggregates",
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("angle", sa.String(length=16), nullable=False),
        sa.Column("model_version", sa.String(length=64), nullable=False),
        sa.Column("sessions", sa.Integer(), nullable=False),
        sa.Column("total", sa.LargeBinary(), nullable=False),
        sa.Column("latest_session_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name="fk_angle_aggregates_user_id_users", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("user_id", "angle", "model_version", name="pk_angle_aggregates"),
    )
    embeddings = sa.table(
        "angle_embeddings",
        sa.column("user_id", sa.Uuid()),
        sa.column("angle", sa.String()),
        sa.column("model_version", sa.String()),
        sa.column("embedding", Vector(1280)),
        sa.column("session_created_at", sa.DateTime(timezone=True)),
    )
    sums: dict[tuple, list] = {}
    for row in op.get_bind().execute(sa.select(embeddings)):
        key = (row.user_id, row.angle, row.model_version)
        count, total, latest = sums.get(key, (0, np.zeros(len(row.embedding)), row.session_created_at))
        sums[key] = (count + 1, total + np.asarray(row.embedding, np.float64), max(latest, row.session_created_at))
    if sums:
        op.bulk_insert(
            aggregates,
            [
                {
                    "user_id": u,
                    "angle": a,
                    "model_version": m,
                    "sessions": n,
                    "total": t.tobytes(),
                    "latest_session_at": at,
                }
                for (u, a, m), (n, t, at) in sums.items()
            ],
        )


def downgrade() -> None:
    """Back to scans (and HNSW indexes)."""
    op.drop_table("angle_aggregates")
    for table in ("angle_embeddings", "session_embeddings"):
        op.execute(f"CREATE INDEX ix_{table}_hnsw ON {table} USING hnsw (embedding vector_cosine_ops)")
    op.drop_index("ix_angle_embeddings_user_angle_time", "angle_embeddings")
    op.create_index("ix_angle_embeddings_user_angle", "angle_embeddings", ["user_id", "angle", "model_version"])
    op.drop_column("angle_embeddings", "session_created_at")
