"""The original frontend's session and preview paths, and the signed image URLs they hand out."""

from flask import Blueprint, Response, url_for

from ..services import images, sessions
from .common import config, current_user, public

bp = Blueprint("media", __name__)


def _preview(image_id, variant: str = "full") -> dict:
    token = images.sign_preview(config("SECRET_KEY"), image_id, variant)
    return {
        "preview_url": url_for("api.media.image_file", token=token),
        "expires_in": config("PREVIEW_URL_TTL_SECONDS"),
    }


@bp.get("/session-info/<session_id>")
def session_info(session_id: str):
    """Where a session stands among the caller's sessions (bare object, as the frontend reads it)."""
    return sessions.session_info(current_user().id, session_id)


@bp.get("/image-preview/<session_id>/<angle>")
def image_preview(session_id: str, angle: str):
    """Short-lived signed URLs for a session's photos of one angle."""
    session = sessions.get_owned_session(current_user().id, session_id)
    found = images.session_images(session, images.check_angle(angle))
    previews = [{**_preview(image.id), "image_type": image.angle, "image_id": str(image.id)} for image in found]
    return {"images": previews, "count": len(previews)}


@bp.get("/session-thumbnails/<session_id>")
def session_thumbnails(session_id: str):
    """Signed thumbnail URLs for every photo of a session."""
    session = sessions.get_owned_session(current_user().id, session_id)
    thumbnails = [
        {**_preview(image.id, "thumb"), "image_type": image.angle, "image_id": str(image.id)}
        for image in session.images
    ]
    return {"session_id": str(session.id), "thumbnails": thumbnails, "count": len(thumbnails)}


@bp.delete("/delete-session/<session_id>")
def delete_session(session_id: str):
    """Delete a session with its photos, analyses and vectors."""
    sessions.delete_session(current_user().id, session_id, config("UPLOAD_DIR"))
    return {"success": True}


@bp.get("/image-file/<token>")
@public
def image_file(token: str):
    """Serve the photo a signed, unexpired token names (no bearer header needed)."""
    image, variant = images.open_preview(config("SECRET_KEY"), token, config("PREVIEW_URL_TTL_SECONDS"))
    response = Response(images.preview_bytes(config("UPLOAD_DIR"), image, variant), mimetype="image/jpeg")
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["Cross-Origin-Resource-Policy"] = "same-site"
    return response
