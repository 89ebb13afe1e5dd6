"""Single-use account tokens (verification, reset, second-factor challenge), known devices, activity events and
mail waiting to be sent: the rows of account safety."""

import uuid
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update

from ..db import db
from ..models import AccountEvent, AccountToken, DeviceToken, OutgoingMail, RecoveryCode, utcnow


def add_token(user_id: uuid.UUID, kind: str, token_hash: str, expires_at: datetime) -> None:
    """Keep a single-use token's hash; earlier unused ones of the same kind stop working."""
    db.session.execute(delete(AccountToken).where(AccountToken.user_id == user_id, AccountToken.kind == kind))
    db.session.add(AccountToken(user_id=user_id, kind=kind, token_hash=token_hash, expires_at=expires_at))


def made_since(user_id: uuid.UUID, kind: str, since: datetime) -> bool:
    """Whether a token of this kind was made for her after `since`."""
    found = db.session.scalar(
        select(AccountToken.id).where(
            AccountToken.user_id == user_id, AccountToken.kind == kind, AccountToken.created_at > since
        )
    )
    return found is not None


def use_token(kind: str, token_hash: str) -> uuid.UUID | None:
    """Spend a live single-use token (once: the row is marked in the same statement); the owner's id, or None."""
    return db.session.scalar(
        update(AccountToken)
        .where(
            AccountToken.kind == kind,
            AccountToken.token_hash == token_hash,
            AccountToken.used_at.is_(None),
            AccountToken.expires_at > utcnow(),
        )
        .values(used_at=utcnow())
        .returning(AccountToken.user_id)
    )


def forget_tokens(older_than: datetime) -> None:
    """Drop single-use tokens that expired before `older_than`."""
    db.session.execute(delete(AccountToken).where(AccountToken.expires_at < older_than))


def replace_recovery_codes(user_id: uuid.UUID, code_hashes: list[str]) -> None:
    """Her recovery codes, replacing any earlier ones."""
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user_id))
    db.session.add_all(RecoveryCode(user_id=user_id, code_hash=code_hash) for code_hash in code_hashes)


def use_recovery_code(user_id: uuid.UUID, code_hash: str) -> bool:
    """Spend one of her unused recovery codes; whether it was one."""
    spent = db.session.scalar(
        update(RecoveryCode)
        .where(RecoveryCode.user_id == user_id, RecoveryCode.code_hash == code_hash, RecoveryCode.used_at.is_(None))
        .values(used_at=utcnow())
        .returning(RecoveryCode.id)
    )
    return spent is not None


def drop_recovery_codes(user_id: uuid.UUID) -> None:
    """Remove her recovery codes (the second factor was turned off)."""
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user_id))


def device(token_hash: str) -> DeviceToken | None:
    """The known device of a device token's hash."""
    return db.session.scalar(select(DeviceToken).where(DeviceToken.token_hash == token_hash))


def add_device(user_id: uuid.UUID, token_hash: str) -> None:
    """Remember a device she signed in from."""
    db.session.add(DeviceToken(user_id=user_id, token_hash=token_hash, created_at=utcnow(), last_used_at=utcnow()))


def add_event(user_id: uuid.UUID, kind: str, agent: str | None, prefix: str | None) -> None:
    """Record one event of her account."""
    db.session.add(AccountEvent(user_id=user_id, kind=kind, at=utcnow(), agent_family=agent, address_prefix=prefix))


def events(user_id: uuid.UUID, limit: int) -> list[AccountEvent]:
    """Her latest events, newest first."""
    query = select(AccountEvent).where(AccountEvent.user_id == user_id)
    return list(db.session.scalars(query.order_by(AccountEvent.at.desc(), AccountEvent.id.desc()).limit(limit)))


def seen_before(user_id: uuid.UUID, agent: str, prefix: str) -> tuple[bool, bool]:
    """Whether she signed in before from this browser family, and from this address prefix."""
    signed_in = (AccountEvent.user_id == user_id, AccountEvent.kind == "sign_in")
    agent_seen = db.session.scalar(select(AccountEvent.id).where(*signed_in, AccountEvent.agent_family == agent))
    prefix_seen = db.session.scalar(select(AccountEvent.id).where(*signed_in, AccountEvent.address_prefix == prefix))
    return agent_seen is not None, prefix_seen is not None


def latest_event(user_id: uuid.UUID, kind: str) -> datetime | None:
    """When she last had an event of this kind."""
    return db.session.scalar(
        select(AccountEvent.at)
        .where(AccountEvent.user_id == user_id, AccountEvent.kind == kind)
        .order_by(AccountEvent.at.desc())
        .limit(1)
    )


def forget_events(older_than: datetime) -> None:
    """Drop events older than `older_than` (activity is kept a year)."""
    db.session.execute(delete(AccountEvent).where(AccountEvent.at < older_than))


def queue_mail(user_id: uuid.UUID, sealed: bytes) -> OutgoingMail:
    """A mail to send, due now."""
    row = OutgoingMail(user_id=user_id, sealed=sealed, attempts=0, next_attempt_at=utcnow(), created_at=utcnow())
    db.session.add(row)
    db.session.flush()
    return row


def due_mail(limit: int) -> list[OutgoingMail]:
    """Mail due to be sent, locked for this sender (others skip them)."""
    query = select(OutgoingMail).where(OutgoingMail.next_attempt_at <= utcnow()).order_by(OutgoingMail.id)
    return list(db.session.scalars(query.limit(limit).with_for_update(skip_locked=True)))


def sent(row: OutgoingMail) -> None:
    """A mail went: it is not kept."""
    db.session.delete(row)


def retry_later(row: OutgoingMail, pause: timedelta, error: str) -> None:
    """A mail did not go: try again after `pause`."""
    row.attempts += 1
    row.next_attempt_at = utcnow() + pause
    row.last_error = error[:200]
