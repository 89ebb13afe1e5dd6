"""Account rows: users, bearer tokens (kept as hashes) and the login-attempt counts."""

import uuid
from datetime import datetime

from sqlalchemy import Row, delete, select, text, update
from sqlalchemy.dialects.postgresql import insert

from ..db import db
from ..models import AuthToken, User, utcnow

_ATTEMPT_SQL = text(
    """
    INSERT INTO login_throttle (key, attempts, window_started_at) VALUES (:key, 1, now())
    ON CONFLICT (key) DO UPDATE SET
        attempts = CASE WHEN login_throttle.window_started_at <= now() - make_interval(secs => :window)
                        THEN 1 ELSE login_throttle.attempts + 1 END,
        window_started_at = CASE WHEN login_throttle.window_started_at <= now() - make_interval(secs => :window)
                                 THEN now() ELSE login_throttle.window_started_at END
    RETURNING attempts, greatest(1, ceil(extract(epoch FROM
        window_started_at + make_interval(secs => :window) - now())))::int AS retry_after
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


def add_token(user_id: uuid.UUID, token_hash: str, expires_at: datetime) -> None:
    """Keep a token's hash."""
    db.session.add(AuthToken(user_id=user_id, token_hash=token_hash, expires_at=expires_at))


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


def forget_old_attempts(window_seconds: float) -> None:
    """Drop attempt counts whose window has ended."""
    db.session.execute(
        text("DELETE FROM login_throttle WHERE window_started_at <= now() - make_interval(secs => :window)"),
        {"window": window_seconds},
    )


def count_attempt(key: str, window_seconds: float) -> Row:
    """Count one attempt under `key`: (attempts in the window, seconds until it ends)."""
    return db.session.execute(_ATTEMPT_SQL, {"key": key, "window": window_seconds}).one()


def clear_attempts(key: str) -> None:
    """Forget the attempts counted under `key`."""
    db.session.execute(text("DELETE FROM login_throttle WHERE key = :key"), {"key": key})


def give_back_attempt(key: str) -> None:
    """Take back one attempt counted under `key` (a login that turned out good)."""
    db.session.execute(
        text("UPDATE login_throttle SET attempts = greatest(attempts - 1, 0) WHERE key = :key"), {"key": key}
    )
