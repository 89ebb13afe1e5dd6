"""Capture-session rows: the caller's own, pages of them, their order in time, the picked baseline."""

import uuid

from sqlalchemy import Row, func, select, update

from ..constants import SessionStatus
from ..db import db
from ..models import CaptureSession, Photo, SessionEmbedding, User


def owned(user_id: uuid.UUID, session_id: uuid.UUID, *, for_update: bool = False) -> CaptureSession | None:
    """The session if it is this user's (locked for the transaction with for_update)."""
    query = select(CaptureSession).where(CaptureSession.id == session_id, CaptureSession.user_id == user_id)
    if for_update:
        query = query.with_for_update()
    return db.session.scalar(query)


def get(session_id: uuid.UUID) -> CaptureSession | None:
    """A session by id, whoever owns it."""
    return db.session.get(CaptureSession, session_id)


def hold(session_id: uuid.UUID) -> CaptureSession | None:
    """A session, its row and its owner's row held against deletion until the transaction ends (FOR KEY SHARE,
    the owner first). Held before the analysis writes anything: a deletion of the session or the account then
    waits for it, instead of each waiting on a lock the other holds (rows that reference both are written)."""
    user_id = db.session.scalar(select(CaptureSession.user_id).where(CaptureSession.id == session_id))
    if user_id is None:
        return None
    db.session.execute(select(User.id).where(User.id == user_id).with_for_update(key_share=True))
    return db.session.scalar(
        select(CaptureSession).where(CaptureSession.id == session_id).with_for_update(key_share=True)
    )


def owner(session_id: uuid.UUID) -> uuid.UUID | None:
    """The user a session belongs to."""
    return db.session.scalar(select(CaptureSession.user_id).where(CaptureSession.id == session_id))


def add(user_id: uuid.UUID, session_type: str, notes: str | None) -> CaptureSession:
    """A new session, in progress (the caller commits)."""
    session = CaptureSession(user_id=user_id, session_type=session_type, status=SessionStatus.IN_PROGRESS, notes=notes)
    db.session.add(session)
    return session


def page(user_id: uuid.UUID, page_number: int, per_page: int) -> tuple[list[CaptureSession], int]:
    """One page of a user's sessions, newest first, and how many there are in all."""
    total = db.session.scalar(select(func.count()).where(CaptureSession.user_id == user_id)) or 0
    items = db.session.scalars(
        select(CaptureSession)
        .where(CaptureSession.user_id == user_id)
        .order_by(CaptureSession.created_at.desc(), CaptureSession.id)
        .limit(per_page)
        .offset((page_number - 1) * per_page)
    ).all()
    return list(items), total


def timeline(user_id: uuid.UUID) -> list[Row]:
    """(id, created_at) of every session of a user, oldest first."""
    return list(
        db.session.execute(
            select(CaptureSession.id, CaptureSession.created_at)
            .where(CaptureSession.user_id == user_id)
            .order_by(CaptureSession.created_at, CaptureSession.id)
        )
    )


def all_of(user_id: uuid.UUID) -> list[CaptureSession]:
    """Every session of a user, oldest first."""
    return list(
        db.session.scalars(
            select(CaptureSession).where(CaptureSession.user_id == user_id).order_by(CaptureSession.created_at)
        )
    )


def image_count(session_id: uuid.UUID) -> int:
    """How many images a session holds."""
    return db.session.scalar(select(func.count()).where(Photo.session_id == session_id)) or 0


def delete(session: CaptureSession) -> None:
    """Delete a session row; its images, analyses, vectors and jobs go with it (cascades)."""
    db.session.delete(session)
    db.session.flush()


def make_baseline(user_id: uuid.UUID, session: CaptureSession) -> None:
    """Make `session` the user's one picked baseline."""
    db.session.execute(
        update(CaptureSession)
        .where(CaptureSession.user_id == user_id, CaptureSession.is_baseline.is_(True), CaptureSession.id != session.id)
        .values(is_baseline=False)
    )
    session.is_baseline = True


def baseline_id(user_id: uuid.UUID, model_version: str) -> uuid.UUID | None:
    """The user's picked baseline, else their first analysed session (one query: every upload and comparison
    asks)."""
    analysed = (
        select(SessionEmbedding.id)
        .where(SessionEmbedding.session_id == CaptureSession.id, SessionEmbedding.model_version == model_version)
        .exists()
    )
    return db.session.scalar(
        select(CaptureSession.id)
        .where(CaptureSession.user_id == user_id, CaptureSession.is_baseline.is_(True) | analysed)
        .order_by(CaptureSession.is_baseline.desc(), CaptureSession.created_at, CaptureSession.id)
        .limit(1)
    )
