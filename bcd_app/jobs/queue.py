"""The job table's operations: submit (with the exact quota), claim, heartbeat, finish, recover."""

import time
import uuid
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import func, select, text

from ..errors import QuotaExceeded, Unavailable
from ..extensions import db
from ..models import AnalysisJob, utcnow

QUEUED, RUNNING, COMPLETED, FAILED = "queued", "running", "completed", "failed"
ACTIVE = (QUEUED, RUNNING)
# The job kind of an operator's re-computation under a new model version (a user's is "analysis").
REEMBED = "reembed"
QUOTA_WINDOW = timedelta(hours=24)
# Retry delay after a transient failure: base * 2^(attempt-1), capped.
BACKOFF_BASE_SECONDS = 2
BACKOFF_MAX_SECONDS = 120


@dataclass(frozen=True)
class Claimed:
    """A job this worker now holds the lease of."""

    id: uuid.UUID
    session_id: uuid.UUID
    user_id: uuid.UUID
    attempts: int


def _enqueue_sql(kind: str, rows: str) -> str:
    """SQL queueing a `kind` job for each (session_id, user_id) of `rows`; a session's existing
    job row (one per session) is put back in the queue from whatever state it was in."""
    return f"""
        INSERT INTO analysis_jobs (id, session_id, user_id, kind, status, stage, attempts, run_after,
                                   progress_done, progress_total, created_at, updated_at)
        SELECT gen_random_uuid(), r.session_id, r.user_id, '{kind}', 'queued', 'queued', 0, now(), 0, 0, now(), now()
        FROM ({rows}) AS r
        ON CONFLICT (session_id) DO UPDATE SET
            kind = '{kind}', status = 'queued', stage = 'queued', attempts = 0, locked_by = NULL,
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
                WHEN c.status IN ('queued', 'running') OR (c.status = 'completed' AND NOT :force) THEN 'existing'
                WHEN (SELECT count(*) FROM analysis_jobs WHERE status = 'queued' AND kind = 'analysis')
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
            "analysis",
            "SELECT CAST(:session_id AS uuid) AS session_id, CAST(:user_id AS uuid) AS user_id "
            "FROM decision WHERE outcome = 'accepted'",
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
    return row.status if row.outcome == "existing" else QUEUED


_CLAIM_SQL = text(
    """
    UPDATE analysis_jobs SET status = 'running', stage = 'starting', locked_by = :worker,
        lease_expires_at = now() + make_interval(secs => :lease), attempts = attempts + 1,
        started_at = now(), updated_at = now()
    WHERE id = (
        SELECT j.id FROM analysis_jobs j JOIN sessions s ON s.id = j.session_id
        WHERE j.status = 'queued' AND j.run_after <= now()
          -- A user's sessions run oldest first, one at a time: each compares with the ones before.
          AND NOT EXISTS (
              SELECT 1 FROM analysis_jobs e JOIN sessions es ON es.id = e.session_id
              WHERE e.user_id = j.user_id AND e.status IN ('queued', 'running')
                AND (es.created_at, es.id) < (s.created_at, s.id)
          )
        ORDER BY j.kind = 'reembed', j.run_after, j.created_at
        FOR UPDATE OF j SKIP LOCKED LIMIT 1
    )
    RETURNING id, session_id, user_id, attempts
    """
)


def claim(connection, worker: str, lease_seconds: float) -> Claimed | None:
    """Take the oldest runnable job (users' requests before re-embeddings), skipping rows others are claiming."""
    row = connection.execute(_CLAIM_SQL, {"worker": worker, "lease": lease_seconds}).first()
    return None if row is None else Claimed(*row)


def heartbeat(connection, job_ids: list[uuid.UUID], worker: str, lease_seconds: float) -> None:
    """Renew the leases this worker holds."""
    connection.execute(
        text(
            "UPDATE analysis_jobs SET lease_expires_at = now() + make_interval(secs => :lease), updated_at = now() "
            "WHERE id = ANY(:ids) AND locked_by = :worker AND status = 'running'"
        ),
        {"ids": job_ids, "worker": worker, "lease": lease_seconds},
    )


def report_progress(connection, job_id: uuid.UUID, worker: str, done: int, total: int, stage: str) -> None:
    """Record how far a running job is."""
    connection.execute(
        text(
            "UPDATE analysis_jobs SET progress_done = :done, progress_total = :total, stage = :stage, "
            "updated_at = now() WHERE id = :id AND locked_by = :worker AND status = 'running'"
        ),
        {"id": job_id, "worker": worker, "done": done, "total": total, "stage": stage},
    )


def finish(
    job_id: uuid.UUID, worker: str, status: str, error_code: str | None = None, message: str | None = None
) -> bool:
    """Write a final (or retry) state in the caller's transaction; False when the lease was lost."""
    now = utcnow()
    job = db.session.scalar(select(AnalysisJob).where(AnalysisJob.id == job_id).with_for_update())
    if job is None or job.locked_by != worker or job.status != RUNNING:
        return False
    job.status, job.error_code, job.error_message = status, error_code, message
    job.locked_by = job.lease_expires_at = None
    job.updated_at = now
    if status == QUEUED:
        delay = min(BACKOFF_BASE_SECONDS * 2 ** (job.attempts - 1), BACKOFF_MAX_SECONDS)
        job.run_after, job.stage = now + timedelta(seconds=delay), "retrying"
    else:
        job.finished_at, job.stage = now, status
        if status == COMPLETED:
            job.progress_done = job.progress_total
    return True


_RECOVER_SQL = text(
    """
    UPDATE analysis_jobs SET
        status = CASE WHEN attempts >= :max_attempts THEN 'failed' ELSE 'queued' END,
        stage = CASE WHEN attempts >= :max_attempts THEN 'failed' ELSE 'queued' END,
        error_code = CASE WHEN attempts >= :max_attempts THEN 'worker_lost' ELSE error_code END,
        error_message = CASE WHEN attempts >= :max_attempts
            THEN 'The analysis stopped responding ' || attempts || ' times and was given up.' ELSE error_message END,
        finished_at = CASE WHEN attempts >= :max_attempts THEN now() ELSE NULL END,
        locked_by = NULL, lease_expires_at = NULL, run_after = now(), updated_at = now()
    WHERE status = 'running' AND lease_expires_at < now()
    RETURNING id, session_id, user_id, status, attempts
    """
)


def recover_expired(connection, max_attempts: int) -> list:
    """Jobs whose worker died (lease expired) go back to the queue, or fail after max_attempts."""
    return list(connection.execute(_RECOVER_SQL, {"max_attempts": max_attempts}))


def release(connection, job_ids: list[uuid.UUID], worker: str) -> None:
    """Give back leases at shutdown so another worker can run the jobs now."""
    connection.execute(
        text(
            "UPDATE analysis_jobs SET status = 'queued', stage = 'queued', locked_by = NULL, "
            "lease_expires_at = NULL, attempts = greatest(attempts - 1, 0), updated_at = now() "
            "WHERE id = ANY(:ids) AND locked_by = :worker AND status = 'running'"
        ),
        {"ids": job_ids, "worker": worker},
    )


def wait_for(session_id: uuid.UUID, timeout: float, poll: float = 0.1) -> AnalysisJob:
    """The session's job once it is completed or failed, or as it stands after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        db.session.expire_all()
        job = job_for(session_id)
        if job.status not in ACTIVE or time.monotonic() >= deadline:
            return job
        time.sleep(poll)


def job_for(session_id: uuid.UUID) -> AnalysisJob | None:
    """The session's job row, if any."""
    return db.session.scalar(select(AnalysisJob).where(AnalysisJob.session_id == session_id))


_REEMBED_SQL = text(
    _enqueue_sql(REEMBED, "SELECT session_id, user_id FROM session_analysis WHERE model_version <> :model_version")
    + " WHERE analysis_jobs.status NOT IN ('queued', 'running') RETURNING session_id"
)


def queue_reembed(model_version: str) -> int:
    """Queue every analysed session whose result came from another model version; returns how many.

    Their vectors of the old version stay: each version's history is kept, and comparisons
    only ever read one version. A session already queued or running is left as it is.
    """
    queued = len(db.session.execute(_REEMBED_SQL, {"model_version": model_version}).all())
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
        select(AnalysisJob.status, func.count()).where(AnalysisJob.kind == REEMBED).group_by(AnalysisJob.status)
    ).all()
    db.session.commit()  # end the read, so the next poll sees what the workers committed since
    return {status: count for status, count in rows}
