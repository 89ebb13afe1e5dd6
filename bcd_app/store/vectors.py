"""A session's angle and session vectors, and the comparison layers computed from them in PostgreSQL with
pgvector's cosine distance (<=>), exact and per user."""

import uuid
from dataclasses import dataclass
from datetime import datetime

import numpy as np
from sqlalchemy import delete, text

from ..constants import LAYERS, MONTHLY_DAYS, ROLLING_SESSIONS
from ..db import db
from ..models import AngleEmbedding, SessionEmbedding
from ..vision.embeddings import ModelInfo
from . import keys

# Each layer reads a bounded part of the user's history through ix_angle_embeddings_user_angle_time: the
# baseline's row, the newest earlier row, the newest ROLLING_SESSIONS earlier rows, the rows of the last
# MONTHLY_DAYS. The lifetime layer comes from the running sums (aggregates.py), or from the scan below when
# those do not hold exactly the earlier sessions (a re-analysis of an older session).
_EARLIER = """
    FROM angle_embeddings p
    WHERE p.user_id = :user_id AND p.angle = cur.angle AND p.model_version = :model_version
      AND (p.session_created_at, p.session_id) < (CAST(:created_at AS timestamptz), CAST(:session_id AS uuid))
"""
_LAYERS_SQL = text(
    f"""
    WITH cur AS (
        SELECT angle, embedding FROM angle_embeddings
        WHERE session_id = :session_id AND model_version = :model_version
    )
    SELECT cur.angle,
        (SELECT b.embedding <=> cur.embedding FROM angle_embeddings b
          WHERE b.session_id = :baseline_id AND b.angle = cur.angle AND b.model_version = :model_version
            AND b.session_id <> :session_id) AS baseline,
        (SELECT p.embedding <=> cur.embedding {_EARLIER}
          ORDER BY p.session_created_at DESC, p.session_id DESC LIMIT 1) AS previous,
        (SELECT avg(w.embedding) <=> cur.embedding FROM (
            SELECT p.embedding {_EARLIER} ORDER BY p.session_created_at DESC, p.session_id DESC LIMIT :rolling
         ) w) AS rolling,
        (SELECT avg(p.embedding) <=> cur.embedding {_EARLIER}
            AND p.session_created_at >= CAST(:created_at AS timestamptz) - make_interval(days => :days)) AS monthly,
        CASE WHEN :scan_lifetime THEN (SELECT avg(p.embedding) <=> cur.embedding {_EARLIER}) END AS lifetime
    FROM cur ORDER BY cur.angle
    """
)

# Per angle, the newest earlier session that has it (what the previous layer compares with).
_PREVIOUS_SQL = text(
    f"""
    SELECT DISTINCT ON (cur.angle) cur.angle, p.session_id
    FROM (SELECT unnest(CAST(:angles AS text[])) AS angle) cur
    JOIN LATERAL (SELECT p.session_id, p.session_created_at {_EARLIER}
                  ORDER BY p.session_created_at DESC, p.session_id DESC LIMIT 1) p ON true
    ORDER BY cur.angle
    """
)

_PAIR_SQL = text(
    """
    SELECT a.angle, a.embedding <=> b.embedding AS distance
    FROM angle_embeddings a JOIN angle_embeddings b
      ON b.angle = a.angle AND b.model_version = a.model_version
    WHERE a.session_id = :current_id AND b.session_id = :other_id AND a.model_version = :model_version
    ORDER BY a.angle
    """
)


# The user's earlier analysed sessions, newest first (what the same-phase layer chooses from).
_EARLIER_SESSIONS_SQL = text(
    """
    SELECT DISTINCT p.session_id, p.session_created_at
    FROM angle_embeddings p
    WHERE p.user_id = :user_id AND p.model_version = :model_version
      AND (p.session_created_at, p.session_id) < (CAST(:created_at AS timestamptz), CAST(:session_id AS uuid))
    ORDER BY p.session_created_at DESC, p.session_id DESC
    """
)

_SESSION_SQL = text(
    """
    SELECT c.embedding <=> b.embedding FROM session_embeddings c JOIN session_embeddings b
      ON b.session_id = :other_id AND b.model_version = c.model_version
    WHERE c.session_id = :session_id AND c.model_version = :model_version AND c.session_id <> b.session_id
    """
)


@dataclass(frozen=True)
class SessionRef:
    """The few facts about a session the comparisons need."""

    id: uuid.UUID
    user_id: uuid.UUID
    created_at: datetime


def layer_distances(
    session: SessionRef,
    baseline_id: uuid.UUID | None,
    model_version: str,
    lifetime: dict[str, float | None] | None = None,
) -> dict[str, dict[str, float | None]]:
    """angle -> layer -> cosine distance (None where the layer has no data). `lifetime`, when given, holds the
    lifetime distances already computed from the running sums; otherwise they are scanned."""
    rows = db.session.execute(
        _LAYERS_SQL,
        {
            "session_id": session.id,
            "user_id": session.user_id,
            "created_at": session.created_at,
            "baseline_id": baseline_id,
            "model_version": model_version,
            "rolling": ROLLING_SESSIONS,
            "days": MONTHLY_DAYS,
            "scan_lifetime": lifetime is None,
        },
    ).mappings()
    found = {}
    for row in rows:
        distances = {layer: None if row[layer] is None else float(row[layer]) for layer in LAYERS}
        if lifetime is not None:
            distances["lifetime"] = lifetime.get(row["angle"])
        found[row["angle"]] = distances
    return found


def previous_sessions(session: SessionRef, model_version: str, angles: list[str]) -> dict[str, uuid.UUID]:
    """angle -> the newest earlier analysed session of the user that has that angle."""
    rows = db.session.execute(
        _PREVIOUS_SQL,
        {
            "angles": angles,
            "user_id": session.user_id,
            "model_version": model_version,
            "created_at": session.created_at,
            "session_id": session.id,
        },
    )
    return {angle: session_id for angle, session_id in rows}


def earlier_sessions(session: SessionRef, model_version: str) -> list[tuple[uuid.UUID, datetime]]:
    """The user's analysed sessions before this one (id and when taken), newest first."""
    rows = db.session.execute(
        _EARLIER_SESSIONS_SQL,
        {
            "user_id": session.user_id,
            "model_version": model_version,
            "created_at": session.created_at,
            "session_id": session.id,
        },
    )
    return [(session_id, created_at) for session_id, created_at in rows]


def pair_distances(current_id: uuid.UUID, other_id: uuid.UUID, model_version: str) -> dict[str, float]:
    """angle -> cosine distance between two sessions' angle vectors (angles both have)."""
    rows = db.session.execute(
        _PAIR_SQL, {"current_id": current_id, "other_id": other_id, "model_version": model_version}
    )
    return {angle: float(distance) for angle, distance in rows}


def session_distance(session_id: uuid.UUID, other_id: uuid.UUID | None, model_version: str) -> float | None:
    """Cosine distance between two sessions' whole-session vectors; None for the same session or no other."""
    if other_id is None:
        return None
    distance = db.session.scalar(
        _SESSION_SQL, {"session_id": session_id, "other_id": other_id, "model_version": model_version}
    )
    return None if distance is None else float(distance)


def kept_object_id(column: str, session_id: uuid.UUID, angle: str, model_version: str) -> str:
    """The name an angle's kept cells or small copy is sealed under."""
    return f"angle_embeddings.{column}/{session_id}/{angle}/{model_version}"


def replace(
    session: SessionRef,
    angles: dict[str, np.ndarray],
    session_vector: np.ndarray,
    kept: dict[str, tuple[bytes | None, bytes]],
    model: ModelInfo,
) -> None:
    """Replace a session's angle and session vectors of this model version (angle -> what its region comparison
    keeps: cell vectors and small copy). The caller keeps the running sums in step, in the same transaction."""
    for table in (AngleEmbedding, SessionEmbedding):
        db.session.execute(delete(table).where(table.session_id == session.id, table.model_version == model.version))
    meta = {"model_name": model.name, "model_version": model.version, "dim": model.dim}
    db.session.add_all(
        AngleEmbedding(
            session_id=session.id,
            user_id=session.user_id,
            angle=angle,
            embedding=vector,
            cells=keys.seal_column(
                session.user_id, kept_object_id("cells", session.id, angle, model.version), kept[angle][0]
            ),
            region_copy=keys.seal_column(
                session.user_id, kept_object_id("region_copy", session.id, angle, model.version), kept[angle][1]
            ),
            session_created_at=session.created_at,
            **meta,
        )
        for angle, vector in angles.items()
    )
    db.session.add(SessionEmbedding(session_id=session.id, user_id=session.user_id, embedding=session_vector, **meta))
    db.session.flush()
