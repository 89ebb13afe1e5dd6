"""Reading analyses back: job status, stored results, two-session comparison, baseline choice."""

import uuid

import numpy as np
from sqlalchemy import select, update

from ..constants import SESSION_COMPLETED
from ..errors import Conflict
from ..extensions import db
from ..jobs import queue
from ..models import CaptureSession, SessionAnalysis
from . import comparison, interpretation
from .analysis import stored_result
from .sessions import get_owned_session

# |delta| below this reads as no change in trend.
TREND_TOLERANCE = 0.02


def analysis_status(user_id: uuid.UUID, session_id: object) -> dict:
    """processing / completed / failed / not_started, with progress, stage, attempts and error."""
    session = get_owned_session(user_id, session_id)
    job = queue.job_for(session.id)
    if job is None:
        analysed = db.session.scalar(select(SessionAnalysis.id).where(SessionAnalysis.session_id == session.id))
        status = "completed" if analysed else "not_started"
        return {
            "session_id": str(session.id),
            "status": status,
            "progress": 1.0 if analysed else 0.0,
            "stage": status,
            "attempts": 0,
            "error": None,
            "updated_at": None,
        }
    status = "processing" if job.status in queue.ACTIVE else job.status
    progress = job.progress_done / job.progress_total if job.progress_total else 0.0
    return {
        "session_id": str(session.id),
        "status": status,
        "progress": 1.0 if job.status == queue.COMPLETED else round(progress, 3),
        "stage": job.stage,
        "attempts": job.attempts,
        "error": {"code": job.error_code, "message": job.error_message} if job.status == queue.FAILED else None,
        "updated_at": job.updated_at.isoformat(),
    }


def _trend(delta: float | None) -> str | None:
    if delta is None:
        return None
    if abs(delta) < TREND_TOLERANCE:
        return "stable"
    return "increasing" if delta > 0 else "decreasing"


def analysed_result(user_id: uuid.UUID, session_id: object) -> tuple[CaptureSession, dict]:
    """The caller's session and its stored result; 409 when it has not been analysed."""
    session = get_owned_session(user_id, session_id)
    result = stored_result(session.id)
    if result is None:
        raise Conflict("The session has not been analysed yet.", code="not_analysed")
    return session, result


def compare_sessions(user_id: uuid.UUID, current_id: object, previous_id: object) -> dict:
    """Compare two analysed sessions of the caller per angle, in the original frontend's shape."""
    current, current_result = analysed_result(user_id, current_id)
    previous, previous_result = analysed_result(user_id, previous_id)
    model_version = current_result["model"]["version"]
    if previous_result["model"]["version"] != model_version:
        raise Conflict("The two sessions were analysed by different model versions.", code="model_mismatch")
    distances = comparison.pair_distances(current.id, previous.id, model_version)
    cur_angles = {a["angle_type"]: a for a in current_result["session_analysis"]["per_angle"]}
    prev_angles = {a["angle_type"]: a for a in previous_result["session_analysis"]["per_angle"]}
    per_angle = []
    for angle, distance in distances.items():
        cur_score, prev_score = cur_angles[angle]["change_score"], prev_angles[angle]["change_score"]
        delta = None if cur_score is None or prev_score is None else round(cur_score - prev_score, 4)
        per_angle.append(
            {
                "angle_type": angle,
                "current_score": cur_score,
                "previous_score": prev_score,
                "delta": delta,
                "embedding_distance": round(distance, 4),
                "variation_level": interpretation.variation_level(distance),
            }
        )
    deltas = [a["delta"] for a in per_angle if a["delta"] is not None]
    overall_delta = round(float(np.mean(deltas)), 4) if deltas else None
    mean_distance = float(np.mean(list(distances.values()))) if distances else None
    body = {
        "current_session_id": str(current.id),
        "previous_session_id": str(previous.id),
        "per_angle": per_angle,
        "overall_delta": overall_delta,
        "stability_index": None if mean_distance is None else round(1.0 - min(mean_distance, 1.0), 4),
        "overall_trend": _trend(overall_delta),
        "overall_variation_level": interpretation.variation_level(mean_distance),
        "baseline_used": current_result["baseline_used"],
        "comparison_layers_used": current_result["comparison_layers_used"],
    }
    for layer in ("rolling", "monthly", "lifetime"):
        body[f"{layer}_baseline"] = _layer_delta(cur_angles, prev_angles, layer)
    return body


def _layer_delta(cur_angles: dict, prev_angles: dict, layer: str) -> dict:
    pairs = [
        (cur_angles[a]["comparisons"][layer]["distance"], prev_angles[a]["comparisons"][layer]["distance"])
        for a in cur_angles.keys() & prev_angles.keys()
    ]
    pairs = [(c, p) for c, p in pairs if c is not None and p is not None]
    if not pairs:
        return {"delta": None, "trend": None, "variation_level": None, "available": False}
    delta = round(float(np.mean([c - p for c, p in pairs])), 4)
    return {
        "delta": delta,
        "trend": _trend(delta),
        "variation_level": interpretation.variation_level(float(np.mean([c for c, _ in pairs]))),
        "available": True,
    }


def set_baseline(user_id: uuid.UUID, session_id: object) -> CaptureSession:
    """Make one completed session of the caller their baseline."""
    session = get_owned_session(user_id, session_id)
    if session.status != SESSION_COMPLETED:
        raise Conflict("Only a completed session can be the baseline.", code="session_not_completed")
    db.session.execute(update(CaptureSession).where(CaptureSession.user_id == user_id).values(is_baseline=False))
    session.is_baseline = True
    db.session.commit()
    return session
