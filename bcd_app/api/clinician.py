"""For the visit to a clinician: the PDF report of a session, its JSON summary with a download link, and share
links (made and revoked here; opened on the public /s/<token> pages)."""

import uuid
from datetime import timedelta

from flask import Blueprint, Response, request
from spectree import Response as Responses

from ..models import utcnow
from ..report.document import DISCLAIMER, render_pdf
from ..report.page import CSP, report_page
from ..schemas.common import ErrorBody, Ok
from ..schemas.requests import ReportQuery, ShareIn
from ..schemas.resources import BareSuccess, ReportAngle, ReportSummary, ShareItem, ShareOpening, ShareOut, SharesOut
from ..services import activity, clinician_report, shares
from ..web.extensions import limiter, spec
from .common import client, config, current_user, fresh, ok, public, public_link_limit
from .links import REPORT_SALT, absolute_url, open_link, sign

bp = Blueprint("clinician", __name__)
shared = Blueprint("shared", __name__)
TAGS = ("clinician",)
ERRORS = {"HTTP_401": ErrorBody, "HTTP_404": ErrorBody, "HTTP_409": ErrorBody}
PRIVATE = {"Cache-Control": "private, no-store", "X-Robots-Tag": "noindex", "Referrer-Policy": "no-referrer"}


def _pdf(data: bytes, headers: dict[str, str] | None = None) -> Response:
    response = Response(data, mimetype="application/pdf")
    response.headers.update({**PRIVATE, "Content-Disposition": 'attachment; filename="photo-record.pdf"'})
    response.headers.update(headers or {})
    return response


@bp.get("/sessions/<session_id>/report.pdf")
@spec.validate(resp=Responses("HTTP_200", **ERRORS), tags=TAGS)
def report_pdf(session_id: str, query: ReportQuery):
    """The session's report as a PDF (409 while its analysis runs or before it has one)."""
    gathered = clinician_report.gather(
        current_user().id, session_id, config("SECRET_KEY"), cycle_notes=query.include_cycle_notes
    )
    activity.record_now(current_user().id, "report_downloaded", client())
    return _pdf(render_pdf(gathered.data))


@bp.post("/generate-report/<session_id>")
@spec.validate(resp=Responses(HTTP_200=Ok[ReportSummary], **ERRORS), tags=TAGS)
def generate_report(session_id: str, query: ReportQuery):
    """The report's content as JSON, with `report_url`: a signed download link of the PDF that expires."""
    user_id = current_user().id
    session, result = clinician_report.analysed(user_id, session_id)
    ttl = config("REPORT_URL_TTL_SECONDS")
    token = sign(REPORT_SALT, {"u": str(user_id), "s": str(session.id), "n": query.include_cycle_notes})
    scores = result.scores
    return ok(
        ReportSummary(
            session_id=str(session.id),
            report_url=absolute_url("api.clinician.report_file", token=token),
            expires_at=(utcnow() + timedelta(seconds=ttl)).isoformat(),
            reference=clinician_report.pseudonym(config("SECRET_KEY"), user_id),
            taken_at=session.created_at.isoformat(),
            session_type=session.session_type,
            first_session=result.is_first_session,
            overall_level=clinician_report.overall_level(result),
            analysis_confidence_score=scores.analysis_confidence_score,
            confidence_label=result.interpretation.confidence_label,
            session_quality_score=scores.session_quality_score,
            symmetry_score=scores.symmetry_score,
            per_angle=[
                ReportAngle(
                    angle_type=angle.angle_type,
                    variation_level=angle.variation_level,
                    distance_to_baseline=clinician_report.layer_distance(angle, "baseline"),
                    distance_to_previous=clinician_report.layer_distance(angle, "previous"),
                )
                for angle in result.session_analysis.per_angle
            ],
            localized_insights=list(result.localized_insights),
            disclaimer=DISCLAIMER,
        )
    )


@bp.get("/report-file/<token>")
@public
@spec.validate(resp=Responses("HTTP_200", **ERRORS), tags=TAGS, security={})
def report_file(token: str):
    """The PDF behind a generate-report link (the signature is the capability; it expires)."""
    link = open_link(REPORT_SALT, token, max_age=config("REPORT_URL_TTL_SECONDS"))
    owner = uuid.UUID(link["u"])
    gathered = clinician_report.gather(owner, link["s"], config("SECRET_KEY"), cycle_notes=bool(link.get("n")))
    activity.record_now(owner, "report_downloaded", client())
    return _pdf(render_pdf(gathered.data))


@bp.post("/shares")
@spec.validate(resp=Responses(HTTP_201=Ok[ShareOut], HTTP_400=ErrorBody, HTTP_403=ErrorBody, **ERRORS), tags=TAGS)
def create_share(json: ShareIn):
    """A link that shows the session's report to someone without an account, for 1-30 days (7 by default); her
    password or a code given lately."""
    fresh()
    link, token = shares.create(
        current_user().id, json.session_id, json.expires_in_days, json.note, cycle_notes=json.include_cycle_notes
    )
    activity.record_now(current_user().id, "share_created", client())
    return ok(
        ShareOut(
            id=str(link.id),
            url=absolute_url("shared.shared_page", token=token),
            expires_at=link.expires_at.isoformat(),
            session_id=str(link.session_id),
        ),
        201,
    )


@bp.get("/shares")
@spec.validate(resp=Responses(HTTP_200=Ok[SharesOut], HTTP_401=ErrorBody), tags=TAGS)
def list_shares():
    """The caller's share links with their openings."""
    now = utcnow()
    return ok(
        SharesOut(
            shares=[
                ShareItem(
                    id=str(link.id),
                    session_id=str(link.session_id),
                    note=link.note,
                    include_cycle_notes=link.include_cycle_notes,
                    created_at=link.created_at.isoformat(),
                    expires_at=link.expires_at.isoformat(),
                    expired=link.expires_at <= now,
                    revoked=link.revoked_at is not None,
                    access_count=link.access_count,
                    last_accessed_at=link.last_accessed_at.isoformat() if link.last_accessed_at else None,
                    openings=[
                        ShareOpening(
                            accessed_at=o.accessed_at.isoformat(), opened=o.opened, agent_family=o.agent_family
                        )
                        for o in openings
                    ],
                )
                for link, openings in shares.listed(current_user().id)
            ]
        )
    )


@bp.delete("/shares/<share_id>")
@spec.validate(resp=Responses(HTTP_200=BareSuccess, HTTP_401=ErrorBody, HTTP_404=ErrorBody), tags=TAGS)
def revoke_share(share_id: str):
    """Revoke a share link: it answers 404 from now on."""
    shares.revoke(current_user().id, share_id)
    return BareSuccess()


@shared.get("/s/<token>")
@limiter.limit(public_link_limit)
@spec.validate(resp=Responses("HTTP_200", HTTP_404=ErrorBody, HTTP_409=ErrorBody), tags=TAGS, security={})
def shared_page(token: str):
    """A shared report as a page of its own (no script; pictures inline) with a button to download the PDF."""
    gathered = shares.open_shared(token, "page", request.headers.get("User-Agent"), config("SECRET_KEY"))
    html = report_page(gathered.data, f"/s/{token}/report.pdf")
    response = Response(html, mimetype="text/html")
    response.headers.update({**PRIVATE, "Content-Security-Policy": CSP})
    return response


@shared.get("/s/<token>/report.pdf")
@limiter.limit(public_link_limit)
@spec.validate(resp=Responses("HTTP_200", HTTP_404=ErrorBody, HTTP_409=ErrorBody), tags=TAGS, security={})
def shared_pdf(token: str):
    """A shared report's PDF, as a download."""
    gathered = shares.open_shared(token, "pdf", request.headers.get("User-Agent"), config("SECRET_KEY"))
    return _pdf(render_pdf(gathered.data), {"Content-Security-Policy": "default-src 'none'; sandbox"})
