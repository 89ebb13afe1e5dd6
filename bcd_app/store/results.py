"""Stored analysis results: the result's JSON and the score columns that history, trend, confidence and
compare-sessions query."""

import uuid
from datetime import datetime

from sqlalchemy import Row, delete, func, select, text

from ..db import db
from ..models import AngleAnalysis, CaptureSession, Photo, StoredAnalysis
from ..schemas.analysis import AnalysisResult
from ..scoring.confidence import History

# A first session is its own baseline: its change score, stored as null, is a distance of 0.
_COMMON_ANGLES_SQL = text(
    """
    SELECT c.angle, coalesce(c.change_score, 0) AS current_score, coalesce(p.change_score, 0) AS previous_score,
           least(c.angle_quality_score, p.angle_quality_score) AS weight
    FROM angle_analysis c JOIN angle_analysis p ON p.angle = c.angle AND p.session_id = :previous_id
    WHERE c.session_id = :current_id
    ORDER BY c.angle
    """
)


def history(user_id: uuid.UUID, before: datetime) -> History:
    """The user's analysed sessions before `before`: how many, their mean brightness and mean session quality."""
    earlier = (
        select(StoredAnalysis.session_id, StoredAnalysis.session_quality_score)
        .join(CaptureSession, CaptureSession.id == StoredAnalysis.session_id)
        .where(CaptureSession.user_id == user_id, CaptureSession.created_at < before)
        .subquery()
    )
    count, mean_quality = db.session.execute(select(func.count(), func.avg(earlier.c.session_quality_score))).one()
    brightness = db.session.scalar(
        select(func.avg(Photo.brightness)).where(Photo.session_id.in_(select(earlier.c.session_id)))
    )
    return History(sessions=count or 0, brightness=float(brightness or 0), quality=float(mean_quality or 0))


def earlier_changes(user_id: uuid.UUID, before: datetime, limit: int) -> list[tuple[float, float]]:
    """(change score, confidence) of the user's newest `limit` analysed sessions before `before` that have one."""
    rows = db.session.execute(
        select(StoredAnalysis.change_score, StoredAnalysis.analysis_confidence_score)
        .join(CaptureSession, CaptureSession.id == StoredAnalysis.session_id)
        .where(
            CaptureSession.user_id == user_id,
            CaptureSession.created_at < before,
            StoredAnalysis.change_score.is_not(None),
        )
        .order_by(CaptureSession.created_at.desc())
        .limit(limit)
    ).all()
    return [(score, confidence) for score, confidence in rows]


def replace(session: CaptureSession, result: AnalysisResult, model_version: str) -> None:
    """Replace the session's analysis rows with this result (one transaction with the vectors).

    The JSON is the result's one rendering; the columns beside it are the index that history,
    trend, confidence and compare-sessions query.
    """
    db.session.execute(delete(AngleAnalysis).where(AngleAnalysis.session_id == session.id))
    db.session.execute(delete(StoredAnalysis).where(StoredAnalysis.session_id == session.id))
    scores = result.scores
    db.session.add(
        StoredAnalysis(
            session_id=session.id,
            user_id=session.user_id,
            change_score=scores.change_score,
            analysis_confidence_score=scores.analysis_confidence_score,
            session_quality_score=scores.session_quality_score,
            model_version=model_version,
            result=result.model_dump(mode="json"),
        )
    )
    db.session.add_all(
        AngleAnalysis(
            session_id=session.id,
            angle=angle.angle_type,
            change_score=angle.change_score,
            angle_quality_score=angle.angle_quality_score,
        )
        for angle in result.session_analysis.per_angle
    )


def stored(session_id: uuid.UUID, *, from_cache: bool = True) -> AnalysisResult | None:
    """The stored result (from_cache False when it was just computed for the asking request); None when not analysed."""
    found = db.session.scalar(select(StoredAnalysis.result).where(StoredAnalysis.session_id == session_id))
    return None if found is None else AnalysisResult.model_validate({**found, "from_cache": from_cache})


def is_analysed(session_id: uuid.UUID) -> bool:
    """Whether a session has a stored result."""
    return db.session.scalar(select(StoredAnalysis.id).where(StoredAnalysis.session_id == session_id)) is not None


def by_session(user_id: uuid.UUID) -> dict[uuid.UUID, dict]:
    """Every stored result of a user (its JSON), by session id."""
    rows = db.session.execute(
        select(StoredAnalysis.session_id, StoredAnalysis.result).where(StoredAnalysis.user_id == user_id)
    )
    return dict(rows.all())


def common_angles(current_id: uuid.UUID, previous_id: uuid.UUID) -> list[Row]:
    """The angles two analysed sessions share: both change scores and the weaker angle quality."""
    return db.session.execute(_COMMON_ANGLES_SQL, {"current_id": current_id, "previous_id": previous_id}).all()


def trend_points(user_id: uuid.UUID) -> list[Row]:
    """(session id, created_at, change_score, analysis_confidence_score) of every analysed session of a user,
    oldest first."""
    return list(
        db.session.execute(
            select(
                CaptureSession.id,
                CaptureSession.created_at,
                StoredAnalysis.change_score,
                StoredAnalysis.analysis_confidence_score,
            )
            .join(StoredAnalysis, StoredAnalysis.session_id == CaptureSession.id)
            .where(CaptureSession.user_id == user_id)
            .order_by(CaptureSession.created_at, CaptureSession.id)
        )
    )
