"""Schedule rows, and the sessions the next due dates count from."""

import uuid
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert

from ..constants import SessionStatus
from ..db import db
from ..models import CaptureSession, Schedule


def of_user(user_id: uuid.UUID, *, for_update: bool = False) -> Schedule | None:
    """A person's schedule row."""
    query = select(Schedule).where(Schedule.user_id == user_id)
    return db.session.scalar(query.with_for_update() if for_update else query)


def add_if_missing(**values: object) -> None:
    """A person's first schedule row; nothing when another request made it meanwhile."""
    db.session.execute(insert(Schedule).values(**values).on_conflict_do_nothing(index_elements=[Schedule.user_id]))


def by_token_hash(token_hash: str) -> Schedule | None:
    """The schedule a calendar token opens."""
    return db.session.scalar(select(Schedule).where(Schedule.calendar_token_hash == token_hash))


def last_completed(user_id: uuid.UUID) -> tuple[datetime | None, datetime | None]:
    """When the person last completed any session, and a full one."""
    when = func.coalesce(CaptureSession.completed_at, CaptureSession.created_at)
    done = (CaptureSession.user_id == user_id, CaptureSession.status == SessionStatus.COMPLETED)
    last_any = db.session.scalar(select(func.max(when)).where(*done))
    last_full = db.session.scalar(select(func.max(when)).where(*done, CaptureSession.session_type == "full"))
    return last_any, last_full


def timezone_of(user_id: uuid.UUID) -> str:
    """The person's time zone: her schedule's, else UTC."""
    return db.session.scalar(select(Schedule.timezone).where(Schedule.user_id == user_id)) or "UTC"
