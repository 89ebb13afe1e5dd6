"""Analysis routes, on the original frontend's paths."""

from flask import Blueprint, current_app

from ..constants import SESSION_COMPLETED
from ..errors import Conflict
from ..jobs import queue
from ..services import reports
from ..services.analysis import stored_result
from ..services.sessions import get_owned_session
from .common import config, current_user, flag, json_body, ok

bp = Blueprint("analysis", __name__)


def _accepted(session_id: str) -> tuple:
    return ok(
        {"session_id": session_id, "status": "processing", "status_url": f"/api/analyze-status/{session_id}"},
        202,
        {"Location": f"/api/analyze-status/{session_id}"},
    )


@bp.post("/analyze-session/<session_id>")
def analyze_session(session_id: str):
    """Queue an analysis (202 at once); ?async_process=false waits for the result; ?force=true re-runs."""
    user = current_user()
    session = get_owned_session(user.id, session_id)
    if session.status != SESSION_COMPLETED:
        raise Conflict("Complete the session before analysing it.", code="session_not_completed")
    # Read before submit commits: the session row is expired after it.
    owned_id = session.id
    force, wait = flag("force"), not flag("async_process", default=True)
    status = queue.submit(
        user.id,
        owned_id,
        force=force,
        daily_quota=config("ANALYSIS_DAILY_QUOTA"),
        queue_limit=config("JOB_QUEUE_LIMIT"),
    )
    if status == queue.COMPLETED:
        return ok(stored_result(owned_id))
    current_app.extensions["job_runner"].notify()
    if wait:
        job = queue.wait_for(owned_id, config("SYNC_ANALYSIS_TIMEOUT_SECONDS"))
        if job.status == queue.COMPLETED:
            return ok(stored_result(owned_id))
        if job.status == queue.FAILED:
            raise Conflict(f"The analysis could not be completed. {job.error_message}", code=job.error_code)
    return _accepted(str(owned_id))


@bp.get("/analyze-status/<session_id>")
def analyze_status(session_id: str):
    """Where a session's analysis stands."""
    return ok(reports.analysis_status(current_user().id, session_id))


@bp.get("/sessions/<session_id>/analysis")
def get_analysis(session_id: str):
    """The stored, complete result of a session's analysis."""
    return ok(reports.analysed_result(current_user().id, session_id)[1])


@bp.post("/compare-sessions/<current_id>/<previous_id>")
def compare_sessions(current_id: str, previous_id: str):
    """Compare two analysed sessions per angle."""
    return ok(reports.compare_sessions(current_user().id, current_id, previous_id))


@bp.put("/baseline")
def set_baseline():
    """Pick the session later sessions are compared with."""
    session = reports.set_baseline(current_user().id, json_body().get("session_id"))
    return ok({"baseline_session_id": str(session.id), "created_at": session.created_at.isoformat()})
