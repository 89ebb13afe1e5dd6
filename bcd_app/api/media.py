"""The original frontend's session and preview paths, and the signed image URLs they hand out."""

from flask import Blueprint, Response
from spectree import Response as Responses

from ..schemas.common import ErrorBody, Ok
from ..schemas.resources import BareSuccess, CaptureGuide, Preview, Previews, SessionInfo, Thumbnails
from ..services import capture, previews, region_maps, sessions
from ..services.uploads import check_angle
from ..web.extensions import spec
from . import links
from .common import config, current_user, ok, public

bp = Blueprint("media", __name__)
TAGS = ("media",)
NOT_FOUND = {"HTTP_401": ErrorBody, "HTTP_404": ErrorBody}


def _preview(image, variant: str = "full") -> Preview:
    return Preview(
        preview_url=links.preview_url(image.id, variant),
        original_url=links.preview_url(image.id, "original"),
        expires_in=config("PREVIEW_URL_TTL_SECONDS"),
        image_type=image.angle,
        image_id=str(image.id),
    )


@bp.get("/session-info/<session_id>")
@spec.validate(resp=Responses(HTTP_200=SessionInfo, **NOT_FOUND), tags=TAGS)
def session_info(session_id: str):
    """Where a session stands among the caller's sessions (bare object, as the frontend reads it)."""
    return SessionInfo(**sessions.session_info(current_user().id, session_id))


@bp.get("/image-preview/<session_id>/<angle>")
@spec.validate(resp=Responses(HTTP_200=Previews, HTTP_400=ErrorBody, **NOT_FOUND), tags=TAGS)
def image_preview(session_id: str, angle: str):
    """Short-lived signed URLs for a session's photos of one angle (bare)."""
    session = sessions.get_owned_session(current_user().id, session_id)
    shown = [_preview(image) for image in sessions.session_images(session, check_angle(angle))]
    return Previews(images=shown, count=len(shown))


@bp.get("/session-thumbnails/<session_id>")
@spec.validate(resp=Responses(HTTP_200=Thumbnails, **NOT_FOUND), tags=TAGS)
def session_thumbnails(session_id: str):
    """Signed thumbnail URLs for every photo of a session (bare)."""
    session = sessions.get_owned_session(current_user().id, session_id)
    thumbnails = [_preview(image, "thumb") for image in session.images]
    return Thumbnails(session_id=str(session.id), thumbnails=thumbnails, count=len(thumbnails))


@bp.delete("/delete-session/<session_id>")
@spec.validate(resp=Responses(HTTP_200=BareSuccess, **NOT_FOUND), tags=TAGS)
def delete_session(session_id: str):
    """Delete a session with its photos, analyses and vectors (bare)."""
    sessions.delete_session(current_user().id, session_id)
    return BareSuccess()


def signed_image(data: bytes, mimetype: str) -> Response:
    """An image behind a signed URL: embeddable from another site (the signature is the capability), never cached."""
    response = Response(data, mimetype=mimetype)
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["Cross-Origin-Resource-Policy"] = "cross-origin"
    return response


@bp.get("/image-file/<token>")
@public
@spec.validate(resp=Responses("HTTP_200", HTTP_404=ErrorBody), tags=TAGS, security={})
def image_file(token: str):
    """Serve the photo a signed, unexpired token names (no bearer header needed)."""
    image_id, variant = links.open_preview(token)
    return signed_image(previews.preview_bytes(previews.linked_image(image_id), variant), "image/jpeg")


@bp.get("/sessions/<session_id>/region-map/<angle>")
@spec.validate(resp=Responses("HTTP_200", **NOT_FOUND), tags=TAGS)
def session_region_map(session_id: str, angle: str):
    """PNG: today's photo of an angle aligned to the baseline's, beside it, cells shaded above the noise floor."""
    png = region_maps.render(current_user().id, session_id, check_angle(angle))
    return signed_image(png, "image/png")


@bp.get("/region-map/<token>")
@public
@spec.validate(resp=Responses("HTTP_200", HTTP_404=ErrorBody), tags=TAGS, security={})
def signed_region_map(token: str):
    """The region map a signed, unexpired token names (for an <img>; no bearer header needed)."""
    link = links.open_link(links.REGION_MAP_SALT, token)
    owner = sessions.session_owner(link.get("s"))
    png = region_maps.render(owner, link.get("s"), check_angle(link.get("a")))
    return signed_image(png, "image/png")


@bp.get("/capture-guide/<angle>")
@spec.validate(resp=Responses(HTTP_200=Ok[CaptureGuide], HTTP_400=ErrorBody, **NOT_FOUND), tags=TAGS)
def capture_guide(angle: str):
    """A signed URL of the camera overlay for an angle: the outline of the caller's baseline photo of it."""
    user_id = current_user().id
    baseline_id = capture.guide_session(user_id, check_angle(angle))
    return ok(
        CaptureGuide(
            angle=angle,
            guide_url=links.capture_guide_url(user_id, angle),
            expires_in=config("PREVIEW_URL_TTL_SECONDS"),
            baseline_session_id=str(baseline_id),
        )
    )


@bp.get("/capture-guide-file/<token>")
@public
@spec.validate(resp=Responses("HTTP_200", HTTP_404=ErrorBody), tags=TAGS, security={})
def capture_guide_file(token: str):
    """The capture guide PNG a signed, unexpired token names (for an <img> over the camera; no bearer header)."""
    link = links.open_link(links.CAPTURE_GUIDE_SALT, token)
    owner = sessions.parse_id(link.get("u"))
    return signed_image(capture.guide_png(owner, check_angle(link.get("a"))), "image/png")
