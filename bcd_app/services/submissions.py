"""Putting analyses in the job table: a user's request (exact quota, joins a running one, waits if asked)
and an operator's re-embedding; the pool in bcd_app/jobs takes them from there."""

import time
import uuid
from collections.abc import Callable
from datetime import timedelta

from sqlalchemy import func, select, text

from ..constants import ACTIVE_JOB_STATES, SQL_STATES, JobKind, JobStatus, SessionStatus
from ..errors import Conflict, NotFound, QuotaExceeded, Unavailable
from ..extensions import db
from ..models import AnalysisJob
from ..schemas.analysis import AnalysisResult
from .analysis import stored_result
from .sessions import get_owned_session

QUOTA_WINDOW = timedelta(hours=24)
# How often a waiting request looks at its job row (sooner when a job of its own process finishes).
WAIT_POLL_SECONDS = 0.1


def _enqueue_sql(rows: str) -> str:
    """SQL queueing a `:kind` job for each (session_id, user_id) of `rows`; a session's existing job row
    (one per session) is put back in the queue from whatever state it was in."""
    return f"""
        INSERT INTO analysis_jobs (id, session_id, user_id, kind, status, stage, attempts, run_after,
                                   progress_done, progress_total, created_at, updated_at)
        SELECT gen_random_uuid(), r.session_id, r.user_id, :kind, :queued, :queued, 0, now(), 0, 0, now(), now()
        FROM ({rows}) AS r
        ON CONFLICT (session_id) DO UPDATE SET
            kind = :kind, status = :queued, stage = :queued, attempts = 0, locked_by = NULL,
            lease_expires_at = NULL, error_code = NULL, error_message = NULL, started_at = NULL,
            finished_at = NULL, progress_done = 0, progress_total = 0, run_after = now(), updated_at = now()
    """


# One statement decides and writes: the job row is locked, the counts are read, and the quota
# row and the (re)queued job are written only when the request is accepted.
_SUBMIT_SQL = text(
    f"""
    WITH current_job AS (
        SELECT status FROM analysis_jobs WHERE session_id = :session_id FOR UPDATE
    ),
    window_requests AS (
        SELECT count(*) AS used, min(created_at) AS oldest FROM analysis_requests
        WHERE user_id = :user_id AND created_at > now() - make_interval(secs => :window)
    ),
    decision AS (
        SELECT c.status, w.used, w.oldest,
            CASE
                WHEN c.status IN (:queued, :running) OR (c.status = :completed AND NOT :force) THEN 'existing'
                WHEN (SELECT count(*) FROM analysis_jobs WHERE status = :queued AND kind = :analysis_kind)
                  >= :queue_limit THEN 'queue_full'
                WHEN w.used >= :quota THEN 'quota'
                ELSE 'accepted'
            END AS outcome
        FROM window_requests w LEFT JOIN current_job c ON true
    ),
    request AS (
        INSERT INTO analysis_requests (user_id, session_id, created_at)
        SELECT :user_id, :session_id, now() FROM decision WHERE outcome = 'accepted'
    ),
    job AS ({
        _enqueue_sql(
            "SELECT CAST(:session_id AS uuid) AS session_id, CAST(:user_id AS uuid) AS user_id "
            "FROM decision WHERE outcome = 'accepted'"
        )
    })
    SELECT outcome, status, oldest, now() AS now FROM decision
    """
)


def submit(user_id: uuid.UUID, session_id: uuid.UUID, *, force: bool, daily_quota: int, queue_limit: int) -> str:
    """Queue a session's analysis, once, and return the job's status: an active job (or, without
    force, a completed one) stays as it is.

    Serialised per user with a transaction-scoped advisory lock taken in a statement of its
    own, so the next statement's snapshot sees every request committed before it: the quota
    count and the insert cannot interleave between gunicorn workers or VMs. Three round trips.
    """
    db.session.execute(text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"), {"key": f"quota:{user_id}"})
    row = db.session.execute(
        _SUBMIT_SQL,
        {
            **SQL_STATES,
            "kind": JobKind.ANALYSIS,
            "session_id": session_id,
            "user_id": user_id,
            "force": force,
            "window": QUOTA_WINDOW.total_seconds(),
            "queue_limit": queue_limit,
            "quota": daily_quota,
        },
    ).one()
    if row.outcome == "queue_full":
        db.session.rollback()
        raise Unavailable(
            "The analysis queue is full; try again shortly.", code="queue_full", headers={"Retry-After": "30"}
        )
    if row.outcome == "quota":
        db.session.rollback()
        retry_after = max(1, int((row.oldest + QUOTA_WINDOW - row.now).total_seconds()) + 1)
        raise QuotaExceeded(
            f"At most {daily_quota} analyses per 24 hours; the next one is possible in {retry_after} seconds.",
            headers={"Retry-After": str(retry_after)},
        )
    db.session.commit()
    return row.status if row.outcome == "existing" else JobStatus.QUEUED


def request_analysis(
    user_id: uuid.UUID,
    session_id: object,
    *,
    force: bool,
    wait_seconds: float,
    daily_quota: int,
    queue_limit: int,
    wake: Callable[[], None],
    pause: Callable[[float], None] = time.sleep,
) -> AnalysisResult | None:
    """A user's analysis request: the stored result, or a queued (or joined) job waited for up to
    `wait_seconds` (looking again after each `pause`); None when it is still running then. The analysis itself
    always runs in the pool."""
    session = get_owned_session(user_id, session_id)
    if session.status != SessionStatus.COMPLETED:
        raise Conflict("Complete the session before analysing it.", code="session_not_completed")
    owned_id = session.id
    status = submit(user_id, owned_id, force=force, daily_quota=daily_quota, queue_limit=queue_limit)
    if status == JobStatus.COMPLETED:
        return _result_or_gone(owned_id, from_cache=True)
    wake()
    if wait_seconds <= 0:
        return None
    job = wait_for(owned_id, wait_seconds, pause)
    if job is None:
        raise NotFound("Session not found.")
    if job.status == JobStatus.COMPLETED:
        return _result_or_gone(owned_id, from_cache=False)
    if job.status == JobStatus.FAILED:
        raise Conflict(f"The analysis could not be completed. {job.error_message}", code=job.error_code)
    return None


def _result_or_gone(session_id: uuid.UUID, *, from_cache: bool) -> AnalysisResult:
    result = stored_result(session_id, from_cache=from_cache)
    if result is None:
        raise NotFound("Session not found.")
    return result


def wait_for(session_id: uuid.UUID, timeout: float, pause: Callable[[float], None] = time.sleep) -> AnalysisJob | None:
    """The session's job once it is completed or failed, or as it stands after `timeout` seconds;
    None when the session (and with it the job) was deleted meanwhile."""
    deadline = time.monotonic() + timeout
    while True:
        # End the read so the next look sees what the pool committed, and the pooled connection is free.
        db.session.rollback()
        job = job_for(session_id)
        if job is None or job.status not in ACTIVE_JOB_STATES or time.monotonic() >= deadline:
            return job
        pause(WAIT_POLL_SECONDS)


def job_for(session_id: uuid.UUID) -> AnalysisJob | None:
    """The session's job row, if any."""
    return db.session.scalar(select(AnalysisJob).where(AnalysisJob.session_id == session_id))


_REEMBED_SQL = text(
    _enqueue_sql("SELECT session_id, user_id FROM session_analysis WHERE model_version <> :model_version")
    + " WHERE analysis_jobs.status NOT IN (:queued, :running) RETURNING session_id"
)


def queue_reembed(model_version: str) -> int:
    """Queue every analysed session whose result came from another model version; returns how many.

    Their vectors of the old version stay: each version's history is kept, and comparisons
    only ever read one version. A session already queued or running is left as it is.
    """
    params = {**SQL_STATES, "kind": JobKind.REEMBED, "model_version": model_version}
    queued = len(db.session.execute(_REEMBED_SQL, params).all())
    db.session.commit()
    return queued


def stale_sessions(model_version: str) -> int:
    """How many analysed sessions still carry a result of another model version."""
    return (
        db.session.scalar(
            text("SELECT count(*) FROM session_analysis WHERE model_version <> :model_version"),
            {"model_version": model_version},
        )
        or 0
    )


def reembed_counts() -> dict[str, int]:
    """Re-embedding jobs by status."""
    rows = db.session.execute(
        select(AnalysisJob.status, func.count()).where(AnalysisJob.kind == JobKind.REEMBED).group_by(AnalysisJob.status)
    ).all()
    db.session.commit()  # end the read, so the next poll sees what the workers committed since
    return {status: count for status, count in rows}
