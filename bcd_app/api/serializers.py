"""Database rows to the API's models, in one place so every route answers alike."""

from ..models import CaptureSession, Photo, User
from ..schemas.analysis import QUALITY_FIELDS
from ..schemas.resources import ImageOut, PoseOut, SessionOut, StoredQuality, TokenOut, UserOut
from ..services.accounts import IssuedToken
from ..services.uploads import StoredImage


def user_out(user: User) -> UserOut:
    """An account, without its password hash."""
    return UserOut(id=str(user.id), email=user.email, created_at=user.created_at.isoformat())


def token_out(issued: IssuedToken) -> TokenOut:
    """A freshly issued token."""
    return TokenOut(
        token=issued.token,
        expires_at=issued.expires_at.isoformat(),
        user=user_out(issued.user),
        device_token=issued.device_token,
    )


def image_fields(image: Photo) -> dict:
    """An image's fields, for ImageOut and the models extending it."""
    return {
        "id": str(image.id),
        "angle": image.angle,
        "size_bytes": image.size_bytes,
        "width": image.width,
        "height": image.height,
        "format": image.format,
        "created_at": image.created_at.isoformat(),
        "quality": StoredQuality(**{name: getattr(image, name) for name in QUALITY_FIELDS}),
    }


def session_out(session: CaptureSession, *, with_images: bool = False) -> SessionOut:
    """A capture session, optionally with its images."""
    return SessionOut(
        id=str(session.id),
        session_type=session.session_type,
        status=session.status,
        notes=session.notes,
        is_baseline=session.is_baseline,
        created_at=session.created_at.isoformat(),
        completed_at=session.completed_at.isoformat() if session.completed_at else None,
        angles=sorted({image.angle for image in session.images}),
        image_count=len(session.images),
        images=[ImageOut(**image_fields(image)) for image in session.images] if with_images else None,
    )


def pose_fields(stored: StoredImage) -> dict:
    """An upload's retake hints (quality, then pose) and its pose against the baseline."""
    if stored.pose is None:
        return {"hints": stored.quality.hints, "pose": None}
    found = stored.pose.pose
    pose = PoseOut(
        ok=found.ok,
        rotation_deg=round(found.rotation_deg, 2),
        scale=round(found.scale, 4),
        shift=(round(found.shift[0], 4), round(found.shift[1], 4)),
        overlap=round(found.overlap, 4),
        hint=stored.pose.hint,
    )
    hints = [*stored.quality.hints, *([stored.pose.hint] if stored.pose.hint else [])]
    return {"hints": hints, "pose": pose}
