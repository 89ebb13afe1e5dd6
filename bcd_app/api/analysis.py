"""Analysis routes, on the original frontend's paths."""

from flask import Blueprint, current_app
from spectree import Response

from ..schemas.analysis import AnalysisAccepted, AnalysisResult, AnalysisStatus, SessionComparison
from ..schemas.common import ErrorBody, Ok
from ..schemas.requests import AnalyzeQuery, BaselineChoice
from ..schemas.resources import BaselineOut
from ..services import reports, submissions
from ..web.extensions import spec
from .common import config, current_user, ok
from .links import with_region_map_urls

bp = Blueprint("analysis", __name__)
TAGS = ("analysis",)
ERRORS = {"HTTP_401": ErrorBody, "HTTP_404": ErrorBody, "HTTP_409": ErrorBody}


@bp.post("/analyze-session/<session_id>")
@spec.validate(
    resp=Response(
        HTTP_200=Ok[AnalysisResult],
        HTTP_202=Ok[AnalysisAccepted],
        HTTP_400=ErrorBody,
        HTTP_403=ErrorBody,
        HTTP_429=ErrorBody,
        HTTP_503=ErrorBody,
        **ERRORS,
    ),
    tags=TAGS,
)
def analyze_session(session_id: str, query: AnalyzeQuery):
    """The session's result: waits for the analysis (up to SYNC_ANALYSIS_TIMEOUT_SECONDS, then 202);
    ?async_process=true answers 202 at once; ?force=true runs it again; a running analysis is joined; a session
    still in progress with enough angles is completed first."""
    runner = current_app.extensions["job_runner"]
    result = submissions.request_analysis(
        current_user().id,
        session_id,
        force=query.force,
        wait_seconds=0 if query.async_process else config("SYNC_ANALYSIS_TIMEOUT_SECONDS"),
        daily_quota=config("ANALYSIS_DAILY_QUOTA"),
        queue_limit=config("JOB_QUEUE_LIMIT"),
        wake=runner.notify,
        pause=runner.pauser(),
        consent_required=config("CONSENT_REQUIRED"),
    )
    if result is not None:
        return ok(with_region_map_urls(result))
    status_url = f"/api/analyze-status/{session_id}"
    return ok(
        AnalysisAccepted(session_id=session_id, status="processing", status_url=status_url),
        202,
        {"Location": status_url},
    )


@bp.get("/analyze-status/<session_id>")
@spec.validate(resp=Response(HTTP_200=Ok[AnalysisStatus], **ERRORS), tags=TAGS)
def analyze_status(session_id: str):
    """Where a session's analysis stands."""
    return ok(reports.analysis_status(current_user().id, session_id))


@bp.get("/sessions/<session_id>/analysis")
@spec.validate(resp=Response(HTTP_200=Ok[AnalysisResult], **ERRORS), tags=TAGS)
def get_analysis(session_id: str):
    """The stored, complete result of a session's analysis."""
    return ok(with_region_map_urls(reports.analysed_result(current_user().id, session_id)[1]))


@bp.post("/compare-sessions/<current_id>/<previous_id>")
@spec.validate(resp=Response(HTTP_200=Ok[SessionComparison], **ERRORS), tags=TAGS)
def compare_sessions(current_id: str, previous_id: str):
    """Compare two analysed sessions per angle."""
    return ok(reports.compare_sessions(current_user().id, current_id, previous_id))


@bp.put("/baseline")
@spec.validate(resp=Response(HTTP_200=Ok[BaselineOut], **ERRORS), tags=TAGS)
def set_baseline(json: BaselineChoice):
    """Pick the session later sessions are compared with."""
    session = reports.set_baseline(current_user().id, json.session_id)
    return ok(BaselineOut(baseline_session_id=str(session.id), created_at=session.created_at.isoformat()))
