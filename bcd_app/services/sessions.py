"""Capture sessions: create, list, read, complete, delete; ownership is checked here, once."""

import uuid
from dataclasses import dataclass

from ..constants import MIN_ANGLES, SessionStatus
from ..db import db
from ..errors import Invalid, NotFound
from ..models import CaptureSession, utcnow
from ..store import aggregates
from ..store import sessions as store
from ..store.files import session_prefix, storage


def parse_id(raw: object) -> uuid.UUID:
    """A UUID from a path or body value; anything else is simply not found."""
    try:
        return uuid.UUID(str(raw))
    except (ValueError, TypeError, AttributeError):
        raise NotFound("Not found.") from None


def get_owned_session(user_id: uuid.UUID, session_id: object, *, for_update: bool = False) -> CaptureSession:
    """The caller's session, or NotFound: another user's session looks exactly like a missing one."""
    session = store.owned(user_id, parse_id(session_id), for_update=for_update)
    if session is None:
        raise NotFound("Session not found.")
    return session


def session_owner(session_id: object) -> uuid.UUID:
    """The user a session belongs to (for a signed link, which carries no bearer token), or NotFound."""
    owner = store.owner(parse_id(session_id))
    if owner is None:
        raise NotFound("Not found.")
    return owner


def create_session(user_id: uuid.UUID, session_type: str, notes: str | None) -> CaptureSession:
    """Start a capture session (status in_progress); the API has validated the type and the notes."""
    session = store.add(user_id, session_type, notes)
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
    items, total = store.page(user_id, page, per_page)
    return Page(items=items, total=total, page=page, per_page=per_page)


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


def delete_session(user_id: uuid.UUID, session_id: object) -> None:
    """Delete a session with its rows (images, analyses, vectors, jobs cascade) and its files."""
    session = get_owned_session(user_id, session_id, for_update=True)
    prefix = session_prefix(user_id, session.id)
    counted = aggregates.remove_session(user_id, session.id)
    store.delete(session)
    aggregates.refresh_latest(counted)
    db.session.commit()
    storage().delete_prefix(prefix)


def session_info(user_id: uuid.UUID, session_id: object) -> dict:
    """The original frontend's session-info body."""
    session = get_owned_session(user_id, session_id)
    ordered = store.timeline(user_id)
    position = next(i for i, row in enumerate(ordered) if row.id == session.id)
    return {
        "session_id": str(session.id),
        "is_first_session": position == 0,
        "is_current": position == len(ordered) - 1,
        "total_sessions": len(ordered),
        "created_at": session.created_at.isoformat(),
        "previous_session_id": str(ordered[position - 1].id) if position > 0 else None,
    }


def session_images(session: CaptureSession, angle: str | None = None) -> list:
    """A session's images, optionally of one angle, oldest first."""
    return [image for image in session.images if angle is None or image.angle == angle]
