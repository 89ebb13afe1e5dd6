"""Account rows: users, bearer tokens (kept as hashes, with what signed in and when) and the login-attempt
counts."""

import uuid
from datetime import datetime

from sqlalchemy import Row, delete, select, text, update
from sqlalchemy.dialects.postgresql import insert

from ..db import db
from ..models import AuthToken, User, utcnow

# What counts against a key: its settled failures in the window, and its pending ones younger than the lease.
_COUNTED = """
    key = :key AND at > now() - make_interval(secs => :window)
    AND (NOT pending OR at > now() - make_interval(secs => :lease))
"""
_RESERVE_SQL = text(
    f"""
    WITH counted AS (
        SELECT count(*) AS failures, min(at) AS oldest FROM login_failures WHERE {_COUNTED}
    ), added AS (
        INSERT INTO login_failures (key) SELECT :key FROM counted WHERE failures < :limit RETURNING id
    )
    SELECT (SELECT id FROM added) AS id,
           greatest(1, ceil(extract(epoch FROM
               (SELECT oldest FROM counted) + make_interval(secs => :window) - now())))::int AS retry_after
    """
)


def insert_user(email: str, password_hash: str) -> User | None:
    """A new account; None when the email is taken.

    ON CONFLICT DO NOTHING: a taken email is no error in PostgreSQL's log (which would quote it).
    """
    user_id = db.session.scalar(
        insert(User)
        .values(id=uuid.uuid4(), email=email, password_hash=password_hash, created_at=utcnow())
        .on_conflict_do_nothing(index_elements=[User.email])
        .returning(User.id)
    )
    return None if user_id is None else db.session.get(User, user_id)


def user_by_email(email: str) -> User | None:
    """The account of a (lower-cased) email."""
    return db.session.scalar(select(User).where(User.email == email))


def delete_user(user_id: uuid.UUID) -> None:
    """Delete an account row; every row of the user goes with it (cascades)."""
    db.session.execute(delete(User).where(User.id == user_id))


def add_token(user_id: uuid.UUID, token_hash: str, expires_at: datetime, agent: str, prefix: str) -> None:
    """Keep a new sign-in's token hash (its password or code was just given)."""
    now = utcnow()
    db.session.add(
        AuthToken(
            user_id=user_id,
            token_hash=token_hash,
            created_at=now,
            expires_at=expires_at,
            last_used_at=now,
            agent_family=agent,
            address_prefix=prefix,
            reauthenticated_at=now,
        )
    )


def live_tokens(user_id: uuid.UUID, idle_since: datetime) -> list[AuthToken]:
    """Her sign-ins still live (not revoked, expired or idle since before `idle_since`), newest first."""
    now = utcnow()
    query = select(AuthToken).where(
        AuthToken.user_id == user_id,
        AuthToken.revoked_at.is_(None),
        AuthToken.expires_at > now,
        AuthToken.last_used_at > idle_since,
    )
    return list(db.session.scalars(query.order_by(AuthToken.created_at.desc())))


def revoke_tokens(user_id: uuid.UUID, *, only: uuid.UUID | None = None, keep: uuid.UUID | None = None) -> int:
    """Revoke her live tokens (only one of them, or all but one); how many."""
    query = update(AuthToken).where(AuthToken.user_id == user_id, AuthToken.revoked_at.is_(None))
    if only is not None:
        query = query.where(AuthToken.id == only)
    if keep is not None:
        query = query.where(AuthToken.id != keep)
    return db.session.execute(query.values(revoked_at=utcnow())).rowcount


def forget_tokens(idle_since: datetime) -> None:
    """Drop tokens expired, revoked, or idle since before `idle_since`: a dead token is no record to keep."""
    now = utcnow()
    db.session.execute(
        delete(AuthToken).where(
            (AuthToken.expires_at <= now) | (AuthToken.revoked_at.is_not(None)) | (AuthToken.last_used_at <= idle_since)
        )
    )


def token_owner(token_hash: str) -> tuple[User, AuthToken] | None:
    """The user and token row of a token hash."""
    row = db.session.execute(
        select(User, AuthToken).join(AuthToken, AuthToken.user_id == User.id).where(AuthToken.token_hash == token_hash)
    ).first()
    return None if row is None else (row[0], row[1])


def revoke_token(token_hash: str) -> None:
    """Mark a live token revoked."""
    db.session.execute(
        update(AuthToken)
        .where(AuthToken.token_hash == token_hash, AuthToken.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )


def forget_old_failures(window_seconds: float) -> None:
    """Drop failures older than the window."""
    db.session.execute(
        text("DELETE FROM login_failures WHERE at <= now() - make_interval(secs => :window)"),
        {"window": window_seconds},
    )


def reserve_failure(key: str, limit: int, window_seconds: float, lease_seconds: float) -> Row:
    """Reserve a pending failure under `key` unless `limit` are counted already: (the reservation's id or None
    when refused, seconds until the oldest counted one leaves the window). Reservations of one key are taken one
    at a time (a transaction-scoped advisory lock, held until the caller commits), so the limit is exact across
    workers and servers."""
    db.session.execute(text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"), {"key": key})
    return db.session.execute(
        _RESERVE_SQL, {"key": key, "limit": limit, "window": window_seconds, "lease": lease_seconds}
    ).one()


def settle_failures(ids: list[int]) -> None:
    """The checked password was wrong: the reservations count as failures for the whole window."""
    db.session.execute(text("UPDATE login_failures SET pending = false WHERE id = ANY(:ids)"), {"ids": ids})


def drop_failures(ids: list[int]) -> None:
    """Reservations that turned out no failure (a good password, or an attempt refused unchecked)."""
    db.session.execute(text("DELETE FROM login_failures WHERE id = ANY(:ids)"), {"ids": ids})


def clear_failures(key: str) -> None:
    """Forget every failure under `key` (the account's, once its password was given right)."""
    db.session.execute(text("DELETE FROM login_failures WHERE key = :key"), {"key": key})
