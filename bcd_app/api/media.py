"""The original frontend's session and preview paths, and the signed image URLs they hand out."""

from flask import Blueprint, Response, url_for
from spectree import Response as Responses

from ..extensions import spec
from ..schemas.analysis import AnalysisResult
from ..schemas.common import ErrorBody
from ..schemas.resources import BareSuccess, Preview, Previews, SessionInfo, Thumbnails
from ..services import images, region_map, sessions, signed_links
from .common import config, current_user, public

bp = Blueprint("media", __name__)
REGION_MAP_SALT = "region-map"
TAGS = ("media",)
NOT_FOUND = {"HTTP_401": ErrorBody, "HTTP_404": ErrorBody}


def absolute_url(endpoint: str, **values: str) -> str:
    """A URL on the API's own origin (PUBLIC_BASE_URL, else the request's host), usable as is from another site."""
    path = url_for(endpoint, **values)
    base = config("PUBLIC_BASE_URL")
    return f"{base.rstrip('/')}{path}" if base else url_for(endpoint, _external=True, **values)


def _preview(image, variant: str = "full") -> Preview:
    token = images.sign_preview(config("SECRET_KEY"), image.id, variant)
    return Preview(
        preview_url=absolute_url("api.media.image_file", token=token),
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
    previews = [_preview(image) for image in images.session_images(session, images.check_angle(angle))]
    return Previews(images=previews, count=len(previews))


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
    sessions.delete_session(current_user().id, session_id, config("UPLOAD_DIR"))
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
    image, variant = images.open_preview(config("SECRET_KEY"), token, config("PREVIEW_URL_TTL_SECONDS"))
    return signed_image(images.preview_bytes(config("UPLOAD_DIR"), image, variant), "image/jpeg")


@bp.get("/sessions/<session_id>/region-map/<angle>")
@spec.validate(resp=Responses("HTTP_200", **NOT_FOUND), tags=TAGS)
def session_region_map(session_id: str, angle: str):
    """PNG: today's photo of an angle aligned to the baseline's, beside it, cells shaded above the noise floor."""
    png = region_map.render(current_user().id, session_id, images.check_angle(angle), config("UPLOAD_DIR"))
    return signed_image(png, "image/png")


@bp.get("/region-map/<token>")
@public
@spec.validate(resp=Responses("HTTP_200", HTTP_404=ErrorBody), tags=TAGS, security={})
def signed_region_map(token: str):
    """The region map a signed, unexpired token names (for an <img>; no bearer header needed)."""
    link = signed_links.open_link(config("SECRET_KEY"), REGION_MAP_SALT, token, config("PREVIEW_URL_TTL_SECONDS"))
    owner = sessions.session_owner(link.get("s"))
    png = region_map.render(owner, link.get("s"), images.check_angle(link.get("a")), config("UPLOAD_DIR"))
    return signed_image(png, "image/png")


def with_region_map_urls(result: AnalysisResult) -> AnalysisResult:
    """The result as served: each angle with a region comparison gets a fresh signed region_map_url."""
    per_angle = [
        angle.model_copy(
            update={
                "region_map_url": absolute_url(
                    "api.media.signed_region_map",
                    token=signed_links.sign(
                        config("SECRET_KEY"), REGION_MAP_SALT, {"s": result.session_id, "a": angle.angle_type}
                    ),
                )
            }
        )
        if angle.regions
        else angle
        for angle in result.session_analysis.per_angle
    ]
    analysis = result.session_analysis.model_copy(update={"per_angle": per_angle})
    return result.model_copy(update={"session_analysis": analysis})
