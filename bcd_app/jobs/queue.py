"""The pool's side of the job table: claim, heartbeat, progress, finish, recover and release."""

import uuid
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select, text

from ..constants import SQL_STATES, JobStatus
from ..extensions import db
from ..models import AnalysisJob, utcnow

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


_CLAIM_SQL = text(
    """
    UPDATE analysis_jobs SET status = :running, stage = 'starting', locked_by = :worker,
        lease_expires_at = now() + make_interval(secs => :lease), attempts = attempts + 1,
        started_at = now(), updated_at = now()
    WHERE id = (
        SELECT j.id FROM analysis_jobs j JOIN sessions s ON s.id = j.session_id
        WHERE j.status = :queued AND j.run_after <= now()
          -- A user's sessions run oldest first, one at a time: each compares with the ones before.
          AND NOT EXISTS (
              SELECT 1 FROM analysis_jobs e JOIN sessions es ON es.id = e.session_id
              WHERE e.user_id = j.user_id AND e.status IN (:queued, :running)
                AND (es.created_at, es.id) < (s.created_at, s.id)
          )
        ORDER BY j.kind = :reembed_kind, j.run_after, j.created_at
        FOR UPDATE OF j SKIP LOCKED LIMIT 1
    )
    RETURNING id, session_id, user_id, attempts
    """
)


def claim(connection, worker: str, lease_seconds: float) -> Claimed | None:
    """Take the oldest runnable job (users' requests before re-embeddings), skipping rows others are claiming."""
    row = connection.execute(_CLAIM_SQL, {**SQL_STATES, "worker": worker, "lease": lease_seconds}).first()
    return None if row is None else Claimed(*row)


def heartbeat(connection, job_ids: list[uuid.UUID], worker: str, lease_seconds: float) -> None:
    """Renew the leases this worker holds."""
    connection.execute(
        text(
            "UPDATE analysis_jobs SET lease_expires_at = now() + make_interval(secs => :lease), updated_at = now() "
            "WHERE id = ANY(:ids) AND locked_by = :worker AND status = :running"
        ),
        {**SQL_STATES, "ids": job_ids, "worker": worker, "lease": lease_seconds},
    )


def report_progress(connection, job_id: uuid.UUID, worker: str, done: int, total: int, stage: str) -> None:
    """Record how far a running job is."""
    connection.execute(
        text(
            "UPDATE analysis_jobs SET progress_done = :done, progress_total = :total, stage = :stage, "
            "updated_at = now() WHERE id = :id AND locked_by = :worker AND status = :running"
        ),
        {**SQL_STATES, "id": job_id, "worker": worker, "done": done, "total": total, "stage": stage},
    )


def finish(
    job_id: uuid.UUID, worker: str, status: JobStatus, error_code: str | None = None, message: str | None = None
) -> bool:
    """Write a final (or retry) state in the caller's transaction; False when the lease was lost."""
    now = utcnow()
    job = db.session.scalar(select(AnalysisJob).where(AnalysisJob.id == job_id).with_for_update())
    if job is None or job.locked_by != worker or job.status != JobStatus.RUNNING:
        return False
    job.status, job.error_code, job.error_message = status, error_code, message
    job.locked_by = job.lease_expires_at = None
    job.updated_at = now
    if status == JobStatus.QUEUED:
        delay = min(BACKOFF_BASE_SECONDS * 2 ** (job.attempts - 1), BACKOFF_MAX_SECONDS)
        job.run_after, job.stage = now + timedelta(seconds=delay), "retrying"
    else:
        job.finished_at, job.stage = now, status
        if status == JobStatus.COMPLETED:
            job.progress_done = job.progress_total
    return True


_RECOVER_SQL = text(
    """
    UPDATE analysis_jobs SET
        status = CASE WHEN attempts >= :max_attempts THEN :failed ELSE :queued END,
        stage = CASE WHEN attempts >= :max_attempts THEN :failed ELSE :queued END,
        error_code = CASE WHEN attempts >= :max_attempts THEN 'worker_lost' ELSE error_code END,
        error_message = CASE WHEN attempts >= :max_attempts
            THEN 'The analysis stopped responding ' || attempts || ' times and was given up.' ELSE error_message END,
        finished_at = CASE WHEN attempts >= :max_attempts THEN now() ELSE NULL END,
        locked_by = NULL, lease_expires_at = NULL, run_after = now(), updated_at = now()
    WHERE status = :running AND lease_expires_at < now()
    RETURNING id, session_id, user_id, status, attempts
    """
)


def recover_expired(connection, max_attempts: int) -> list:
    """Jobs whose worker died (lease expired) go back to the queue, or fail after max_attempts."""
    return list(connection.execute(_RECOVER_SQL, {**SQL_STATES, "max_attempts": max_attempts}))


def release(connection, job_ids: list[uuid.UUID], worker: str) -> None:
    """Give back leases at shutdown so another worker can run the jobs now."""
    connection.execute(
        text(
            "UPDATE analysis_jobs SET status = :queued, stage = :queued, locked_by = NULL, "
            "lease_expires_at = NULL, attempts = greatest(attempts - 1, 0), updated_at = now() "
            "WHERE id = ANY(:ids) AND locked_by = :worker AND status = :running"
        ),
        {**SQL_STATES, "ids": job_ids, "worker": worker},
    )
