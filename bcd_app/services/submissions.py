"""Putting analyses in the job table: a user's request (exact quota, joins a running one, waits if asked)
and an operator's re-embedding; the pool in bcd_app/jobs takes them from there."""

import time
import uuid
from collections.abc import Callable
from datetime import timedelta

from ..constants import ACTIVE_JOB_STATES, ANALYSIS_CONSENT, JobStatus, SessionStatus
from ..db import db
from ..errors import Conflict, NotFound, QuotaExceeded, Unavailable
from ..models import AnalysisJob
from ..schemas.analysis import AnalysisResult
from ..store import jobs, locks, results
from . import consents
from .sessions import complete_session, get_owned_session

QUOTA_WINDOW = timedelta(hours=24)
# How often a waiting request looks at its job row (sooner when a job of its own process finishes).
WAIT_POLL_SECONDS = 0.1


def submit(user_id: uuid.UUID, session_id: uuid.UUID, *, force: bool, daily_quota: int, queue_limit: int) -> str:
    """Queue a session's analysis, once, and return the job's status: an active job (or, without
    force, a completed one) stays as it is.

    Serialised per user with a transaction-scoped advisory lock, so the quota count and the insert cannot
    interleave between gunicorn workers or VMs. Three round trips.
    """
    locks.serialise("quota", user_id)
    row = jobs.submit(
        user_id,
        session_id,
        force=force,
        window_seconds=QUOTA_WINDOW.total_seconds(),
        daily_quota=daily_quota,
        queue_limit=queue_limit,
    )
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
    consent_required: bool = False,
) -> AnalysisResult | None:
    """A user's analysis request: the stored result, or a queued (or joined) job waited for up to
    `wait_seconds` (looking again after each `pause`); None when it is still running then. The analysis itself
    always runs in the pool. With `consent_required`, the person must have accepted the current text of the
    processing of her health data (403 consent_required)."""
    session = get_owned_session(user_id, session_id)
    if consent_required:
        consents.require(user_id, ANALYSIS_CONSENT)
    if session.status != SessionStatus.COMPLETED:
        # The client's flow: a session still open that has its angles is completed and analysed in one call
        # (400 not_enough_angles, naming what is there, when it has not).
        session = complete_session(user_id, session.id)
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
    result = results.stored(session_id, from_cache=from_cache)
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
        job = jobs.job_for(session_id)
        if job is None or job.status not in ACTIVE_JOB_STATES or time.monotonic() >= deadline:
            return job
        pause(WAIT_POLL_SECONDS)


def queue_reembed(model_version: str) -> int:
    """Queue every analysed session whose result came from another model version; returns how many.

    Their vectors of the old version stay: each version's history is kept, and comparisons
    only ever read one version. A session already queued or running is left as it is.
    """
    queued = jobs.queue_reembed(model_version)
    db.session.commit()
    return queued


def reembed_counts() -> dict[str, int]:
    """Re-embedding jobs by status."""
    counts = jobs.reembed_counts()
    db.session.commit()  # end the read, so the next poll sees what the workers committed since
    return counts
