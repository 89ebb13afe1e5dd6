"""The job table's operations: submit (with the exact quota), claim, heartbeat, finish, recover."""

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select, text

from ..errors import QuotaExceeded, Unavailable
from ..extensions import db
from ..models import AnalysisJob, AnalysisRequest, utcnow

QUEUED, RUNNING, COMPLETED, FAILED = "queued", "running", "completed", "failed"
ACTIVE = (QUEUED, RUNNING)
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


def submit(
    user_id: uuid.UUID, session_id: uuid.UUID, *, force: bool, daily_quota: int, queue_limit: int
) -> AnalysisJob:
    """Queue a session's analysis, once: an active job is returned as it is.

    Serialised per user with a transaction-scoped advisory lock, so the quota count and the
    insert cannot interleave between gunicorn workers or VMs.
    """
    db.session.execute(text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"), {"key": f"quota:{user_id}"})
    job = db.session.scalar(select(AnalysisJob).where(AnalysisJob.session_id == session_id).with_for_update())
    if job is not None and (job.status in ACTIVE or (job.status == COMPLETED and not force)):
        db.session.commit()
        return job
    queued = db.session.scalar(select(func.count()).where(AnalysisJob.status == QUEUED)) or 0
    if queued >= queue_limit:
        db.session.rollback()
        raise Unavailable(
            "The analysis queue is full; try again shortly.", code="queue_full", headers={"Retry-After": "30"}
        )
    now = utcnow()
    window = db.session.execute(
        select(func.count(), func.min(AnalysisRequest.created_at)).where(
            AnalysisRequest.user_id == user_id, AnalysisRequest.created_at > now - QUOTA_WINDOW
        )
    ).one()
    if window[0] >= daily_quota:
        db.session.rollback()
        retry_after = max(1, int((window[1] + QUOTA_WINDOW - now).total_seconds()) + 1)
        raise QuotaExceeded(
            f"At most {daily_quota} analyses per 24 hours; the next one is possible in {retry_after} seconds.",
            headers={"Retry-After": str(retry_after)},
        )
    db.session.add(AnalysisRequest(user_id=user_id, session_id=session_id, created_at=now))
    if job is None:
        job = AnalysisJob(session_id=session_id, user_id=user_id)
        db.session.add(job)
    _reset(job, now)
    db.session.commit()
    return job


def _reset(job: AnalysisJob, now: datetime) -> None:
    job.status, job.stage, job.attempts = QUEUED, "queued", 0
    job.locked_by = job.lease_expires_at = job.error_code = job.error_message = None
    job.started_at = job.finished_at = None
    job.progress_done = job.progress_total = 0
    job.run_after = job.updated_at = now


_CLAIM_SQL = text(
    """
    UPDATE analysis_jobs SET status = 'running', stage = 'starting', locked_by = :worker,
        lease_expires_at = now() + make_interval(secs => :lease), attempts = attempts + 1,
        started_at = now(), updated_at = now()
    WHERE id = (
        SELECT id FROM analysis_jobs WHERE status = 'queued' AND run_after <= now()
        ORDER BY run_after, created_at FOR UPDATE SKIP LOCKED LIMIT 1
    )
    RETURNING id, session_id, user_id, attempts
    """
)


def claim(connection, worker: str, lease_seconds: float) -> Claimed | None:
    """Take the oldest runnable job, skipping rows other workers are claiming."""
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


def job_for(session_id: uuid.UUID) -> AnalysisJob | None:
    """The session's job row, if any."""
    return db.session.scalar(select(AnalysisJob).where(AnalysisJob.session_id == session_id))
