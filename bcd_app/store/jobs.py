"""The job table, its one owner: submitting (exact quota), waiting, the pool's claim, heartbeat, progress,
outcomes, recovery and release, re-embedding, counts; and the analysis log the outcomes write."""

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Row, func, select, text

from ..constants import SQL_STATES, WORKER_LOST, JobKind, JobStatus
from ..db import db
from ..models import AnalysisJob, AnalysisLog, utcnow


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


def _finish(job: Claimed, worker: str, seconds: float, write: Callable[[AnalysisJob, datetime], None]) -> bool:
    """Write an outcome and its log row in the caller's transaction; False when the lease was lost."""
    now = utcnow()
    row = db.session.scalar(select(AnalysisJob).where(AnalysisJob.id == job.id).with_for_update())
    if row is None or row.locked_by != worker or row.status != JobStatus.RUNNING:
        return False
    row.locked_by = row.lease_expires_at = None
    row.updated_at = now
    write(row, now)
    db.session.add(
        AnalysisLog(
            session_id=job.session_id,
            user_id=job.user_id,
            status=row.status,
            attempt=job.attempts,
            processing_time=round(seconds, 4),
            error=f"{row.error_code}: {row.error_message}" if row.error_code else None,
        )
    )
    return True


def complete(job: Claimed, worker: str, seconds: float) -> bool:
    """The job's analysis is stored (same transaction)."""

    def write(row: AnalysisJob, now: datetime) -> None:
        row.status, row.error_code, row.error_message = JobStatus.COMPLETED, None, None
        row.finished_at, row.stage, row.progress_done = now, JobStatus.COMPLETED, row.progress_total

    return _finish(job, worker, seconds, write)


def fail(job: Claimed, worker: str, seconds: float, error_code: str, message: str) -> bool:
    """The job will not run again."""

    def write(row: AnalysisJob, now: datetime) -> None:
        row.status, row.error_code, row.error_message = JobStatus.FAILED, error_code, message
        row.finished_at, row.stage = now, JobStatus.FAILED

    return _finish(job, worker, seconds, write)


def retry(job: Claimed, worker: str, seconds: float, error_code: str, message: str, delay_seconds: float) -> bool:
    """The job goes back to the queue, runnable after `delay_seconds`."""

    def write(row: AnalysisJob, now: datetime) -> None:
        row.status, row.error_code, row.error_message = JobStatus.QUEUED, error_code, message
        row.run_after, row.stage = now + timedelta(seconds=delay_seconds), "retrying"

    return _finish(job, worker, seconds, write)


_EXPIRED_SQL = text(
    """
    SELECT id, session_id, user_id, attempts FROM analysis_jobs
    WHERE status = :running AND lease_expires_at < now()
    FOR UPDATE SKIP LOCKED
    """
)
_REQUEUE_LOST_SQL = text(
    """
    UPDATE analysis_jobs SET status = :queued, stage = :queued, finished_at = NULL, locked_by = NULL,
        lease_expires_at = NULL, run_after = now(), updated_at = now()
    WHERE id = :id
    """
)
_FAIL_LOST_SQL = text(
    """
    UPDATE analysis_jobs SET status = :failed, stage = :failed, error_code = :error_code, error_message = :message,
        finished_at = now(), locked_by = NULL, lease_expires_at = NULL, run_after = now(), updated_at = now()
    WHERE id = :id
    """
)


def expired(connection) -> list[Row]:
    """Running jobs whose worker died (lease expired), locked for this transaction: id, session, user, attempts."""
    return list(connection.execute(_EXPIRED_SQL, SQL_STATES))


def requeue_lost(connection, job_id: uuid.UUID) -> None:
    """Put a lost job back in the queue, runnable now."""
    connection.execute(_REQUEUE_LOST_SQL, {**SQL_STATES, "id": job_id})


def fail_lost(connection, lost: Row) -> None:
    """Give up a job whose workers were lost too often, with its log row."""
    message = f"The analysis stopped responding {lost.attempts} times and was given up."
    connection.execute(_FAIL_LOST_SQL, {**SQL_STATES, "id": lost.id, "error_code": WORKER_LOST, "message": message})
    connection.execute(
        AnalysisLog.__table__.insert().values(
            session_id=lost.session_id,
            user_id=lost.user_id,
            status=JobStatus.FAILED,
            attempt=lost.attempts,
            processing_time=0.0,
            error=f"{WORKER_LOST}: the analysis stopped responding",
            created_at=utcnow(),
        )
    )


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


def submit(
    user_id: uuid.UUID, session_id: uuid.UUID, *, force: bool, window_seconds: float, daily_quota: int, queue_limit: int
) -> Row:
    """Decide and write a user's request in one statement: (outcome, the job's status before, the oldest
    request in the window, now); outcome is accepted, existing, queue_full or quota. The caller holds the
    user's quota lock (store/locks.py), so the count and the insert cannot interleave between processes."""
    return db.session.execute(
        _SUBMIT_SQL,
        {
            **SQL_STATES,
            "kind": JobKind.ANALYSIS,
            "session_id": session_id,
            "user_id": user_id,
            "force": force,
            "window": window_seconds,
            "queue_limit": queue_limit,
            "quota": daily_quota,
        },
    ).one()


def job_for(session_id: uuid.UUID) -> AnalysisJob | None:
    """The session's job row, if any (one per session)."""
    return db.session.scalar(select(AnalysisJob).where(AnalysisJob.session_id == session_id))


def analysis_running(session_id: uuid.UUID) -> bool:
    """Whether the session's analysis is running now."""
    return db.session.scalar(select(AnalysisJob.status).where(AnalysisJob.session_id == session_id)) == (
        JobStatus.RUNNING
    )


def analysis_begun(session_id: uuid.UUID) -> bool:
    """Whether the session's analysis has begun: claimed, running or finished (not only queued)."""
    status = db.session.scalar(select(AnalysisJob.status).where(AnalysisJob.session_id == session_id))
    return status is not None and status != JobStatus.QUEUED


_REEMBED_SQL = text(
    _enqueue_sql("SELECT session_id, user_id FROM session_analysis WHERE model_version <> :model_version")
    + " WHERE analysis_jobs.status NOT IN (:queued, :running) RETURNING session_id"
)


def queue_reembed(model_version: str) -> int:
    """Queue every analysed session whose result came from another model version (a session already queued or
    running stays as it is); returns how many."""
    params = {**SQL_STATES, "kind": JobKind.REEMBED, "model_version": model_version}
    return len(db.session.execute(_REEMBED_SQL, params).all())


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
    return {status: count for status, count in rows}


def counts_by_status() -> dict[str, int]:
    """Every job by status (the queue depth of every server)."""
    return dict(db.session.execute(text("SELECT status, count(*) FROM analysis_jobs GROUP BY status")).all())
