"""Comparison layers computed in PostgreSQL with pgvector's cosine distance (<=>), exact and per user."""

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import text

from ..extensions import db

LAYERS = ("baseline", "previous", "rolling", "monthly", "lifetime")
ROLLING_SESSIONS = 5
MONTHLY_DAYS = 30

# Earlier sessions of the same user and model version, per angle, newest first. Exact SQL over
# the user's own rows (the per-user index), not an approximate nearest-neighbour search.
_LAYERS_SQL = text(
    """
    WITH cur AS (
        SELECT angle, embedding FROM angle_embeddings
        WHERE session_id = :session_id AND model_version = :model_version
    ),
    prior AS (
        SELECT ae.angle, ae.embedding, s.created_at, ae.session_id,
               row_number() OVER (PARTITION BY ae.angle ORDER BY s.created_at DESC, s.id DESC) AS recency
        FROM angle_embeddings ae JOIN sessions s ON s.id = ae.session_id
        WHERE ae.user_id = :user_id AND ae.model_version = :model_version
          AND (s.created_at, s.id) < (CAST(:created_at AS timestamptz), CAST(:session_id AS uuid))
    )
    SELECT cur.angle,
        (SELECT b.embedding <=> cur.embedding FROM angle_embeddings b
          WHERE b.session_id = :baseline_id AND b.angle = cur.angle AND b.model_version = :model_version
            AND b.session_id <> :session_id) AS baseline,
        (SELECT p.embedding <=> cur.embedding FROM prior p WHERE p.angle = cur.angle AND p.recency = 1) AS previous,
        (SELECT avg(p.embedding) <=> cur.embedding FROM prior p
          WHERE p.angle = cur.angle AND p.recency <= :rolling) AS rolling,
        (SELECT avg(p.embedding) <=> cur.embedding FROM prior p
          WHERE p.angle = cur.angle AND p.created_at >= CAST(:created_at AS timestamptz) - make_interval(days => :days))
          AS monthly,
        (SELECT avg(p.embedding) <=> cur.embedding FROM prior p WHERE p.angle = cur.angle) AS lifetime
    FROM cur ORDER BY cur.angle
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
    session: SessionRef, baseline_id: uuid.UUID | None, model_version: str
) -> dict[str, dict[str, float | None]]:
    """angle -> layer -> cosine distance (None where the layer has no data)."""
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
        },
    ).mappings()
    return {
        row["angle"]: {layer: None if row[layer] is None else float(row[layer]) for layer in LAYERS} for row in rows
    }


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
