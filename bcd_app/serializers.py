"""JSON shapes of the API's objects, in one place so every route answers alike."""

from .models import CaptureSession, Image, User
from .services.accounts import IssuedToken
from .services.images import QUALITY_COLUMNS


def user_json(user: User) -> dict:
    """An account, without its password hash."""
    return {"id": str(user.id), "email": user.email, "created_at": user.created_at.isoformat()}


def token_json(issued: IssuedToken) -> dict:
    """A freshly issued token."""
    return {
        "token": issued.token,
        "token_type": "Bearer",
        "expires_at": issued.expires_at.isoformat(),
        "user": user_json(issued.user),
    }


def image_json(image: Image) -> dict:
    """An image: id, angle, size and its measured quality."""
    return {
        "id": str(image.id),
        "angle": image.angle,
        "size_bytes": image.size_bytes,
        "width": image.width,
        "height": image.height,
        "format": image.format,
        "created_at": image.created_at.isoformat(),
        "quality": {name: getattr(image, name) for name in QUALITY_COLUMNS},
    }


def session_json(session: CaptureSession, *, with_images: bool = False) -> dict:
    """A capture session, optionally with its images."""
    body = {
        "id": str(session.id),
        "session_type": session.session_type,
        "status": session.status,
        "notes": session.notes,
        "is_baseline": session.is_baseline,
        "created_at": session.created_at.isoformat(),
        "completed_at": session.completed_at.isoformat() if session.completed_at else None,
        "angles": sorted({image.angle for image in session.images}),
        "image_count": len(session.images),
    }
    if with_images:
        body["images"] = [image_json(image) for image in session.images]
    return body
