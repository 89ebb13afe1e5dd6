"""Reading analyses back: job status, stored results, two-session comparison, baseline choice."""

import uuid

import numpy as np

from ..constants import ACTIVE_JOB_STATES, LAYERS, SUMMARY_LAYERS, JobStatus, SessionStatus
from ..db import db
from ..errors import Conflict
from ..models import CaptureSession
from ..schemas.analysis import AnalysisResult, AnalysisStatus, AngleDelta, JobError, LayerDelta, SessionComparison
from ..scoring import interpretation
from ..scoring.numbers import rounded, weighted_mean
from ..store import jobs, locks, results, vectors
from ..store import sessions as session_rows
from .sessions import get_owned_session

# The layers compare-sessions reports as deltas: every one but the two a summary speaks of.
HISTORY_LAYERS = tuple(layer for layer in LAYERS if layer not in SUMMARY_LAYERS)
COMPARISON_METHOD = "per-angle cosine distance of EfficientNet-Lite0 embeddings, computed in PostgreSQL (pgvector)"


def analysis_status(user_id: uuid.UUID, session_id: object) -> AnalysisStatus:
    """processing / completed / failed / not_started, with progress, stage, attempts and error."""
    session = get_owned_session(user_id, session_id)
    job = jobs.job_for(session.id)
    if job is None:
        analysed = results.is_analysed(session.id)
        status = JobStatus.COMPLETED if analysed else "not_started"
        return AnalysisStatus(
            session_id=str(session.id),
            status=status,
            progress=1.0 if analysed else 0.0,
            stage=status,
            attempts=0,
            error=None,
            updated_at=None,
        )
    progress = job.progress_done / job.progress_total if job.progress_total else 0.0
    return AnalysisStatus(
        session_id=str(session.id),
        status="processing" if job.status in ACTIVE_JOB_STATES else job.status,
        progress=1.0 if job.status == JobStatus.COMPLETED else round(progress, 3),
        stage=job.stage,
        attempts=job.attempts,
        error=JobError(code=job.error_code, message=job.error_message) if job.status == JobStatus.FAILED else None,
        updated_at=job.updated_at.isoformat(),
    )


def stored_result(session: CaptureSession) -> AnalysisResult:
    """A session's stored result; 409 when it has not been analysed."""
    result = results.stored(session.id)
    if result is None:
        raise Conflict("The session has not been analysed yet.", code="not_analysed")
    return result


def analysed_result(user_id: uuid.UUID, session_id: object) -> tuple[CaptureSession, AnalysisResult]:
    """The caller's session and its stored result; 409 when it has not been analysed."""
    session = get_owned_session(user_id, session_id)
    return session, stored_result(session)


def compare_sessions(user_id: uuid.UUID, current_id: object, previous_id: object) -> SessionComparison:
    """Compare two analysed sessions of the caller, over the angles both have, in the frontend's shape."""
    current, current_result = analysed_result(user_id, current_id)
    previous, previous_result = analysed_result(user_id, previous_id)
    model_version = current_result.model.version
    if previous_result.model.version != model_version:
        raise Conflict("The two sessions were analysed by different model versions.", code="model_mismatch")
    rows = results.common_angles(current.id, previous.id)
    if not rows:
        raise Conflict("The two sessions have no angle in common to compare.", code="no_common_angles")
    distances = vectors.pair_distances(current.id, previous.id, model_version)
    per_angle = [
        AngleDelta(
            angle_type=row.angle,
            current_score=round(row.current_score, 4),
            previous_score=round(row.previous_score, 4),
            delta=round(row.current_score - row.previous_score, 4),
            embedding_distance=rounded(distances.get(row.angle)),
            variation_level=interpretation.variation_level(distances.get(row.angle)),
        )
        for row in rows
    ]
    # Each angle counts as much as its weaker photo set is good: a blurred angle moves the total less.
    overall_delta = round(weighted_mean([a.delta for a in per_angle], [row.weight for row in rows]), 4)
    mean_distance = float(np.mean(list(distances.values()))) if distances else None
    return SessionComparison(
        current_session_id=str(current.id),
        previous_session_id=str(previous.id),
        per_angle=per_angle,
        overall_delta=overall_delta,
        overall_trend=interpretation.trend(overall_delta),
        comparison_method=COMPARISON_METHOD,
        stability_index=None if mean_distance is None else round(1.0 - min(mean_distance, 1.0), 4),
        overall_variation_level=interpretation.variation_level(mean_distance),
        baseline_used=current_result.baseline_used,
        comparison_layers_used=current_result.comparison_layers_used,
        **{f"{layer}_baseline": _layer_delta(current_result, previous_result, layer) for layer in HISTORY_LAYERS},
    )


def _layer_delta(current: AnalysisResult, previous: AnalysisResult, layer: str) -> LayerDelta:
    """How far the current session's distance to a history layer moved since the previous session's.

    A previous session with nothing earlier in that layer had nothing to differ from: 0.
    """
    before = {a.angle_type: a.comparisons[layer].distance for a in previous.session_analysis.per_angle}
    pairs = [
        (a.comparisons[layer].distance, before.get(a.angle_type) or 0.0)
        for a in current.session_analysis.per_angle
        if a.comparisons[layer].available and a.angle_type in before
    ]
    if not pairs:
        return LayerDelta(delta=None, trend=None, available=False)
    delta = round(float(np.mean([c - p for c, p in pairs])), 4)
    return LayerDelta(delta=delta, trend=interpretation.trend(delta), available=True)


def set_baseline(user_id: uuid.UUID, session_id: object) -> CaptureSession:
    """Make one completed session of the caller their baseline; concurrent changes of one user run one at a time."""
    locks.serialise("baseline", user_id)
    session = get_owned_session(user_id, session_id)
    if session.status != SessionStatus.COMPLETED:
        raise Conflict("Only a completed session can be the baseline.", code="session_not_completed")
    session_rows.make_baseline(user_id, session)
    db.session.commit()
    return session
