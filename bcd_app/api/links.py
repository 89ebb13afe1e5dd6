"""Links the API hands out: absolute URLs on its own origin, and signed, expiring tokens for images an <img> on
another site can load without a bearer header (photo previews and region maps)."""

import uuid

from flask import url_for
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from ..errors import NotFound
from ..schemas.analysis import AnalysisResult
from .common import config

PREVIEW_SALT = "image-preview"
REGION_MAP_SALT = "region-map"
CAPTURE_GUIDE_SALT = "capture-guide"
REPORT_SALT = "clinician-report"


def sign(salt: str, payload: dict) -> str:
    """A token carrying `payload`, verified with a max age when opened."""
    return URLSafeTimedSerializer(config("SECRET_KEY"), salt=salt).dumps(payload)


def open_link(salt: str, token: str, max_age: int | None = None) -> dict:
    """The payload of an unexpired token (PREVIEW_URL_TTL_SECONDS unless `max_age` says otherwise); an expired one
    is NotFound `link_expired`, a forged one NotFound."""
    try:
        payload = URLSafeTimedSerializer(config("SECRET_KEY"), salt=salt).loads(
            token, max_age=max_age or config("PREVIEW_URL_TTL_SECONDS")
        )
    except SignatureExpired:
        raise NotFound("This link has expired.", code="link_expired") from None
    except BadSignature:
        raise NotFound("Not found.") from None
    if not isinstance(payload, dict):
        raise NotFound("Not found.")
    return payload


def absolute_url(endpoint: str, **values: str) -> str:
    """A URL on the API's own origin (PUBLIC_BASE_URL, else the request's host), usable as is from another site."""
    path = url_for(endpoint, **values)
    base = config("PUBLIC_BASE_URL")
    return f"{base.rstrip('/')}{path}" if base else url_for(endpoint, _external=True, **values)


def preview_url(image_id: uuid.UUID, variant: str = "full") -> str:
    """A signed URL of one photo (or its thumbnail)."""
    token = sign(PREVIEW_SALT, {"i": str(image_id), "v": variant})
    return absolute_url("api.media.image_file", token=token)


def open_preview(token: str) -> tuple[object, str]:
    """The image id and variant a preview token names."""
    payload = open_link(PREVIEW_SALT, token)
    return payload.get("i"), payload.get("v", "full")


def capture_guide_url(user_id: uuid.UUID, angle: str) -> str:
    """A signed URL of a user's capture guide of one angle."""
    token = sign(CAPTURE_GUIDE_SALT, {"u": str(user_id), "a": angle})
    return absolute_url("api.media.capture_guide_file", token=token)


def with_region_map_urls(result: AnalysisResult) -> AnalysisResult:
    """The result as served: each angle with a region comparison gets a fresh signed region_map_url."""
    per_angle = [
        angle.model_copy(
            update={
                "region_map_url": absolute_url(
                    "api.media.signed_region_map",
                    token=sign(REGION_MAP_SALT, {"s": result.session_id, "a": angle.angle_type}),
                )
            }
        )
        if angle.regions
        else angle
        for angle in result.session_analysis.per_angle
    ]
    analysis = result.session_analysis.model_copy(update={"per_angle": per_angle})
    return result.model_copy(update={"session_analysis": analysis})
