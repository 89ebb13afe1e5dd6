"""Database rows to the API's models, in one place so every route answers alike."""

from ..models import CaptureSession, Photo, User
from ..schemas.analysis import QUALITY_FIELDS
from ..schemas.resources import ImageOut, SessionOut, StoredQuality, TokenOut, UserOut
from ..services.accounts import IssuedToken


def user_out(user: User) -> UserOut:
    """An account, without its password hash."""
    return UserOut(id=str(user.id), email=user.email, created_at=user.created_at.isoformat())


def token_out(issued: IssuedToken) -> TokenOut:
    """A freshly issued token."""
    return TokenOut(token=issued.token, expires_at=issued.expires_at.isoformat(), user=user_out(issued.user))


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
