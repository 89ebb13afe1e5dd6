"""Cycle log rows: one per person and day, written whole, read by range or all of a person's."""

import uuid
from datetime import date

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert

from ..db import db
from ..models import CycleLog


def put(values: dict) -> CycleLog:
    """Write a day's entry (insert or replace the whole row) and answer it."""
    statement = insert(CycleLog).values(**values)
    replaced = {column: statement.excluded[column] for column in values if column not in ("user_id", "day")}
    db.session.execute(statement.on_conflict_do_update(index_elements=[CycleLog.user_id, CycleLog.day], set_=replaced))
    return db.session.execute(
        select(CycleLog).where(CycleLog.user_id == values["user_id"], CycleLog.day == values["day"]),
        execution_options={"populate_existing": True},
    ).scalar_one()


def remove(user_id: uuid.UUID, day: date) -> bool:
    """Delete a day's entry; whether there was one."""
    return db.session.execute(delete(CycleLog).where(CycleLog.user_id == user_id, CycleLog.day == day)).rowcount > 0


def between(user_id: uuid.UUID, first: date, last: date) -> list[CycleLog]:
    """A person's entries from `first` to `last` (both included), oldest first."""
    query = select(CycleLog).where(CycleLog.user_id == user_id, CycleLog.day >= first, CycleLog.day <= last)
    return list(db.session.scalars(query.order_by(CycleLog.day)))


def all_of(user_id: uuid.UUID) -> list[CycleLog]:
    """All of a person's entries, oldest first."""
    return list(db.session.scalars(select(CycleLog).where(CycleLog.user_id == user_id).order_by(CycleLog.day)))
