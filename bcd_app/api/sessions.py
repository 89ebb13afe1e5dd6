"""Capture-session and image routes."""

from flask import Blueprint, request

from ..extensions import limiter
from ..serializers import image_json, session_json
from ..services import images, sessions
from ..services.quality import QualityThresholds
from .common import config, current_user, json_body, ok, page_args

bp = Blueprint("sessions", __name__, url_prefix="/sessions")


def _upload_limit() -> str:
    return config("UPLOAD_RATE_LIMIT")


def _user_key() -> str:
    return str(current_user().id)


@bp.post("")
def create_session():
    """Start a capture session."""
    body = json_body()
    session = sessions.create_session(current_user().id, body.get("session_type"), body.get("notes"))
    return ok(session_json(session, with_images=True), 201)


@bp.get("")
def list_sessions():
    """The caller's sessions, newest first, paginated."""
    page, per_page = page_args()
    listing = sessions.list_sessions(current_user().id, page, per_page)
    return ok(
        {
            "sessions": [session_json(session) for session in listing.items],
            "page": listing.page,
            "per_page": listing.per_page,
            "total": listing.total,
        }
    )


@bp.get("/<session_id>")
def get_session(session_id: str):
    """One session with its images and their quality."""
    return ok(session_json(sessions.get_owned_session(current_user().id, session_id), with_images=True))


@bp.post("/<session_id>/complete")
def complete_session(session_id: str):
    """Mark a session completed once it has enough angles."""
    return ok(session_json(sessions.complete_session(current_user().id, session_id), with_images=True))


@bp.post("/<session_id>/images")
@limiter.limit(_upload_limit, key_func=_user_key)
def upload_image(session_id: str):
    """Store one photo of one angle and answer with its quality."""
    upload = request.files.get("file")
    stored = images.add_image(
        current_user().id,
        session_id,
        request.form.get("angle"),
        upload.read() if upload else None,
        upload_dir=config("UPLOAD_DIR"),
        max_images=config("MAX_IMAGES_PER_SESSION"),
        thresholds=QualityThresholds().with_overrides(config("QUALITY_THRESHOLDS")),
    )
    return ok({**image_json(stored.image), "hints": stored.quality.hints}, 201)


@bp.delete("/<session_id>/images/<image_id>")
def delete_image(session_id: str, image_id: str):
    """Remove one photo."""
    images.delete_image(current_user().id, session_id, image_id, config("UPLOAD_DIR"))
    return ok({"deleted": True})
