"""Running sums of each user's angle vectors per model version, kept in the transaction that writes or
deletes the vectors: the lifetime layer reads one row per angle however long the history."""

import uuid
from datetime import datetime

import numpy as np
from sqlalchemy import func, select, tuple_

from ..db import db
from ..models import AngleAggregate, AngleEmbedding


def _rows(user_id: uuid.UUID, model_version: str, angles: set[str]) -> dict[str, AngleAggregate]:
    found = db.session.scalars(
        select(AngleAggregate)
        .where(
            AngleAggregate.user_id == user_id,
            AngleAggregate.model_version == model_version,
            AngleAggregate.angle.in_(sorted(angles)),
        )
        .order_by(AngleAggregate.angle)
        .with_for_update()
    )
    return {row.angle: row for row in found}


def remove_session(user_id: uuid.UUID, session_id: uuid.UUID, model_version: str | None = None) -> list[AngleAggregate]:
    """Take a session's angle vectors (of one model version, or of all) out of the sums, before deleting them
    in the same transaction; returns the sums still counting others, for refresh_latest once they are gone."""
    query = select(AngleEmbedding.angle, AngleEmbedding.model_version, AngleEmbedding.embedding).where(
        AngleEmbedding.session_id == session_id
    )
    if model_version is not None:
        query = query.where(AngleEmbedding.model_version == model_version)
    by_version: dict[str, dict[str, np.ndarray]] = {}
    for angle, version, vector in db.session.execute(query):
        by_version.setdefault(version, {})[angle] = np.asarray(vector)
    return [row for version, vectors in by_version.items() for row in _remove(user_id, version, vectors)]


def _remove(user_id: uuid.UUID, model_version: str, vectors: dict[str, np.ndarray]) -> list[AngleAggregate]:
    rows = _rows(user_id, model_version, set(vectors))
    kept = []
    for angle, vector in vectors.items():
        row = rows.get(angle)
        if row is None:
            continue
        if row.sessions <= 1:
            db.session.delete(row)
            continue
        row.sessions -= 1
        row.total = (np.frombuffer(row.total) - np.asarray(vector, np.float64)).tobytes()
        kept.append(row)
    return kept


def refresh_latest(rows: list[AngleAggregate]) -> None:
    """After the removed vectors are deleted: each sum's newest counted session (one user's rows), in one query
    through the index."""
    if not rows:
        return
    newest = {
        (angle, version): latest
        for angle, version, latest in db.session.execute(
            select(AngleEmbedding.angle, AngleEmbedding.model_version, func.max(AngleEmbedding.session_created_at))
            .where(
                AngleEmbedding.user_id == rows[0].user_id,
                tuple_(AngleEmbedding.angle, AngleEmbedding.model_version).in_(
                    [(row.angle, row.model_version) for row in rows]
                ),
            )
            .group_by(AngleEmbedding.angle, AngleEmbedding.model_version)
        )
    }
    for row in rows:
        row.latest_session_at = newest.get((row.angle, row.model_version)) or row.latest_session_at


def add(user_id: uuid.UUID, model_version: str, vectors: dict[str, np.ndarray], session_at: datetime) -> None:
    """Count one session's angle vectors (same transaction as writing them)."""
    rows = _rows(user_id, model_version, set(vectors))
    for angle, vector in vectors.items():
        values = np.asarray(vector, np.float64)
        row = rows.get(angle)
        if row is None:
            db.session.add(
                AngleAggregate(
                    user_id=user_id,
                    angle=angle,
                    model_version=model_version,
                    sessions=1,
                    total=values.tobytes(),
                    latest_session_at=session_at,
                )
            )
            continue
        row.sessions += 1
        row.total = (np.frombuffer(row.total) + values).tobytes()
        row.latest_session_at = max(row.latest_session_at, session_at)


def earlier_means(user_id: uuid.UUID, model_version: str, angles: set[str], before: datetime) -> dict | None:
    """angle -> mean of every counted vector, when every counted session is earlier than `before` (so the
    sums are exactly 'all earlier sessions'); None when some is not (a re-analysis of an older session)."""
    rows = db.session.scalars(
        select(AngleAggregate).where(
            AngleAggregate.user_id == user_id,
            AngleAggregate.model_version == model_version,
            AngleAggregate.angle.in_(sorted(angles)),
        )
    ).all()
    if any(row.latest_session_at >= before for row in rows):
        return None
    return {row.angle: np.frombuffer(row.total) / row.sessions for row in rows}
