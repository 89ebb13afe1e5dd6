"""The consent ledger's rows: appended, read in order."""

import uuid

from sqlalchemy import select

from ..db import db
from ..models import ConsentRecord


def append(user_id: uuid.UUID, kind: str, version: str, text_sha256: str, accepted: bool) -> ConsentRecord:
    """Add one record to the ledger."""
    record = ConsentRecord(user_id=user_id, kind=kind, version=version, text_sha256=text_sha256, accepted=accepted)
    db.session.add(record)
    db.session.flush()
    return record


def history(user_id: uuid.UUID) -> list[ConsentRecord]:
    """Every record of a person, oldest first."""
    return list(
        db.session.scalars(select(ConsentRecord).where(ConsentRecord.user_id == user_id).order_by(ConsentRecord.id))
    )


def latest(user_id: uuid.UUID, kind: str) -> ConsentRecord | None:
    """A person's last record of one kind."""
    return db.session.scalar(
        select(ConsentRecord)
        .where(ConsentRecord.user_id == user_id, ConsentRecord.kind == kind)
        .order_by(ConsentRecord.id.desc())
        .limit(1)
    )
