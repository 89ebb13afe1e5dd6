"""Region rows: the baseline's kept cells and small copies, each cell's recorded changes (what the noise floor
learns from)."""

import uuid

from sqlalchemy import delete, insert, select, text

from ..db import db
from ..models import RegionChange
from . import keys
from .vectors import kept_object_id

# What a recorded cell change was measured against: the baseline, or another photo of the same angle in the same
# session.
BASELINE, WITHIN = "baseline", "within"
_REFERENCES_SQL = text(
    """
    SELECT e.angle, e.cells, e.region_copy
    FROM angle_embeddings e
    WHERE e.session_id = :session_id AND e.model_version = :model_version AND e.angle = ANY(:angles)
    """
)
# A cell's newest samples, every kind: the floor is a robust statistic of them, so a real change (rare) is
# outvoted rather than left out for good.
_SAMPLES_SQL = text(
    """
    SELECT angle, row, col, change FROM (
        SELECT angle, row, col, change,
               row_number() OVER (PARTITION BY angle, row, col ORDER BY created_at DESC, id DESC) AS recency
        FROM region_changes
        WHERE user_id = :user_id AND session_id <> :session_id AND angle = ANY(:angles)
    ) recent WHERE recency <= :keep
    """
)


def references(session_id: uuid.UUID, model_version: str, angles: list[str], owner: uuid.UUID) -> list[tuple]:
    """(angle, cell vectors bytes or None, small copy bytes or None) of an analysed session's kept angles, opened
    for `owner` (one that does not open reads as None)."""
    rows = db.session.execute(
        _REFERENCES_SQL, {"session_id": session_id, "model_version": model_version, "angles": angles}
    )
    return [
        (
            angle,
            keys.open_column(owner, kept_object_id("cells", session_id, angle, model_version), cells),
            keys.open_column(owner, kept_object_id("region_copy", session_id, angle, model_version), region_copy),
        )
        for angle, cells, region_copy in rows
    ]


def samples(user_id: uuid.UUID, session_id: uuid.UUID, angles: list[str], keep: int) -> dict:
    """(angle, row, col) -> the newest `keep` recorded changes of that cell in the user's other sessions."""
    samples: dict[tuple, list[float]] = {}
    rows = db.session.execute(
        _SAMPLES_SQL, {"user_id": user_id, "session_id": session_id, "angles": angles, "keep": keep}
    )
    for angle, row, col, change in rows:
        samples.setdefault((angle, row, col), []).append(change)
    return samples


def exceeded(session_id: uuid.UUID) -> set[tuple[str, int, int]]:
    """(angle, row, col) of the cells that were above their floor against the baseline in a session."""
    rows = db.session.execute(
        select(RegionChange.angle, RegionChange.row, RegionChange.col).where(
            RegionChange.session_id == session_id, RegionChange.reference == BASELINE, RegionChange.exceeds
        )
    )
    return {tuple(row) for row in rows}


def replace(session_id: uuid.UUID, rows: list[dict]) -> None:
    """Replace a session's recorded cell changes (each a dict of RegionChange's columns): one statement without
    RETURNING, its rows sent in one pipeline, where the ORM asked for every new id back."""
    db.session.execute(delete(RegionChange).where(RegionChange.session_id == session_id))
    if rows:
        db.session.execute(insert(RegionChange), rows)
