"""Capture-session and image routes."""

from flask import Blueprint, current_app, request
from spectree import Response

from ..constants import ANALYSIS_CONSENT
from ..schemas.common import ErrorBody, Ok
from ..schemas.requests import NewSession, PageQuery, UploadForm
from ..schemas.resources import Deleted, SessionOut, SessionPage, UploadedImage
from ..services import consents, sessions, uploads
from ..services.settings import quality_thresholds
from ..web import metrics
from ..web.extensions import limiter, spec
from .common import config, current_user, ok
from .serializers import image_fields, pose_fields, session_out

bp = Blueprint("sessions", __name__, url_prefix="/sessions")
TAGS = ("sessions",)
SESSION_RESPONSES = {"HTTP_200": Ok[SessionOut], "HTTP_400": ErrorBody, "HTTP_401": ErrorBody, "HTTP_404": ErrorBody}


def _upload_limit() -> str:
    return config("UPLOAD_RATE_LIMIT")


def _user_key() -> str:
    return str(current_user().id)


@bp.post("")
@spec.validate(resp=Response(HTTP_201=Ok[SessionOut], HTTP_401=ErrorBody), tags=TAGS)
def create_session(json: NewSession):
    """Start a capture session."""
    session = sessions.create_session(current_user().id, json.session_type, json.notes)
    return ok(session_out(session, with_images=True), 201)


@bp.get("")
@spec.validate(resp=Response(HTTP_200=Ok[SessionPage], HTTP_401=ErrorBody), tags=TAGS)
def list_sessions(query: PageQuery):
    """The caller's sessions, newest first, paginated."""
    listing = sessions.list_sessions(current_user().id, query.page, query.per_page)
    return ok(
        SessionPage(
            sessions=[session_out(session) for session in listing.items],
            page=listing.page,
            per_page=listing.per_page,
            total=listing.total,
        )
    )


@bp.get("/<session_id>")
@spec.validate(resp=Response(**SESSION_RESPONSES), tags=TAGS)
def get_session(session_id: str):
    """One session with its images and their quality."""
    return ok(session_out(sessions.get_owned_session(current_user().id, session_id), with_images=True))


@bp.post("/<session_id>/complete")
@spec.validate(resp=Response(**SESSION_RESPONSES), tags=TAGS)
def complete_session(session_id: str):
    """Mark a session completed once it has enough angles."""
    return ok(session_out(sessions.complete_session(current_user().id, session_id), with_images=True))


# The multipart body is read by the view (a file is not a JSON value); the model documents it.
@bp.post("/<session_id>/images")
@limiter.limit(_upload_limit, key_func=_user_key)
@spec.validate(
    form=UploadForm,
    resp=Response(
        HTTP_201=Ok[UploadedImage], HTTP_403=ErrorBody, HTTP_404=ErrorBody, HTTP_409=ErrorBody, HTTP_413=ErrorBody
    ),
    tags=TAGS,
    skip_validation=True,
)
def upload_image(session_id: str):
    """Store one photo of one angle and answer with its quality. With CONSENT_REQUIRED, 403 consent_required
    before she consented to the processing of her health data (nothing is read or stored)."""
    if config("CONSENT_REQUIRED"):
        consents.require(current_user().id, ANALYSIS_CONSENT)
    upload = request.files.get("file")
    data = upload.read() if upload else None
    stored = uploads.add_image(
        current_user().id,
        session_id,
        request.form.get("angle"),
        data,
        max_images=config("MAX_IMAGES_PER_SESSION"),
        thresholds=quality_thresholds(current_app.config),
    )
    metrics.UPLOAD_BYTES.observe(len(data))
    registered = None if stored.pose is None else stored.pose.registered
    current_app.extensions["job_runner"].precompute(stored.image.id, registered)
    return ok(UploadedImage(**image_fields(stored.image), **pose_fields(stored)), 201)


@bp.delete("/<session_id>/images/<image_id>")
@spec.validate(resp=Response(HTTP_200=Ok[Deleted], HTTP_404=ErrorBody, HTTP_409=ErrorBody), tags=TAGS)
def delete_image(session_id: str, image_id: str):
    """Remove one photo."""
    uploads.delete_image(current_user().id, session_id, image_id)
    return ok(Deleted())
