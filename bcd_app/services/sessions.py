"""Capture sessions: create, list, read, complete, delete; ownership is checked here, once."""

import uuid
from dataclasses import dataclass

from sqlalchemy import func, select

from ..constants import MIN_ANGLES, SessionStatus
from ..errors import Invalid, NotFound
from ..extensions import db
from ..models import CaptureSession, Image, utcnow
from . import aggregates, storage


def parse_id(raw: object) -> uuid.UUID:
    """A UUID from a path or body value; anything else is simply not found."""
    try:
        return uuid.UUID(str(raw))
    except (ValueError, TypeError, AttributeError):
        raise NotFound("Not found.") from None


def get_owned_session(user_id: uuid.UUID, session_id: object, *, for_update: bool = False) -> CaptureSession:
    """The caller's session, or NotFound: another user's session looks exactly like a missing one."""
    query = select(CaptureSession).where(CaptureSession.id == parse_id(session_id), CaptureSession.user_id == user_id)
    if for_update:
        query = query.with_for_update()
    session = db.session.scalar(query)
    if session is None:
        raise NotFound("Session not found.")
    return session


def session_owner(session_id: object) -> uuid.UUID:
    """The user a session belongs to (for a signed link, which carries no bearer token), or NotFound."""
    owner = db.session.scalar(select(CaptureSession.user_id).where(CaptureSession.id == parse_id(session_id)))
    if owner is None:
        raise NotFound("Not found.")
    return owner


def create_session(user_id: uuid.UUID, session_type: str, notes: str | None) -> CaptureSession:
    """Start a capture session (status in_progress); the API has validated the type and the notes."""
    session = CaptureSession(user_id=user_id, session_type=session_type, status=SessionStatus.IN_PROGRESS, notes=notes)
    db.session.add(session)
    db.session.commit()
    return session


@dataclass(frozen=True)
class Page:
    """One page of a listing."""

    items: list
    total: int
    page: int
    per_page: int


def list_sessions(user_id: uuid.UUID, page: int, per_page: int) -> Page:
    """The caller's sessions, newest first."""
    total = db.session.scalar(select(func.count()).where(CaptureSession.user_id == user_id)) or 0
    items = db.session.scalars(
        select(CaptureSession)
        .where(CaptureSession.user_id == user_id)
        .order_by(CaptureSession.created_at.desc(), CaptureSession.id)
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).all()
    return Page(items=list(items), total=total, page=page, per_page=per_page)


def angles_of(session: CaptureSession) -> set[str]:
    """The distinct angles a session has images for."""
    return {image.angle for image in session.images}


def complete_session(user_id: uuid.UUID, session_id: object) -> CaptureSession:
    """Mark a session completed once it has enough distinct angles."""
    session = get_owned_session(user_id, session_id, for_update=True)
    if session.status == SessionStatus.COMPLETED:
        return session
    have = angles_of(session)
    need = MIN_ANGLES[session.session_type]
    if len(have) < need:
        raise Invalid(
            f"A {session.session_type} session needs at least {need} distinct angles; "
            f"it has {len(have)} ({', '.join(sorted(have)) or 'none'}).",
            code="not_enough_angles",
        )
    session.status = SessionStatus.COMPLETED
    session.completed_at = utcnow()
    db.session.commit()
    return session


def delete_session(user_id: uuid.UUID, session_id: object, upload_dir: str) -> None:
    """Delete a session with its rows (images, analyses, vectors, jobs cascade) and its files."""
    session = get_owned_session(user_id, session_id, for_update=True)
    prefix = f"{user_id}/{session.id}"
    counted = aggregates.remove_session(user_id, session.id)
    db.session.delete(session)
    db.session.flush()
    aggregates.refresh_latest(counted)
    db.session.commit()
    storage.delete_tree(upload_dir, prefix)


def session_info(user_id: uuid.UUID, session_id: object) -> dict:
    """The original frontend's session-info body."""
    session = get_owned_session(user_id, session_id)
    ordered = list(
        db.session.execute(
            select(CaptureSession.id, CaptureSession.created_at)
            .where(CaptureSession.user_id == user_id)
            .order_by(CaptureSession.created_at, CaptureSession.id)
        )
    )
    position = next(i for i, row in enumerate(ordered) if row.id == session.id)
    return {
        "session_id": str(session.id),
        "is_first_session": position == 0,
        "is_current": position == len(ordered) - 1,
        "total_sessions": len(ordered),
        "created_at": session.created_at.isoformat(),
        "previous_session_id": str(ordered[position - 1].id) if position > 0 else None,
    }


def image_count(session_id: uuid.UUID) -> int:
    """How many images a session holds."""
    return db.session.scalar(select(func.count()).where(Image.session_id == session_id)) or 0
