"""Accounts and bearer tokens: registration, login, logout, token checks, erasure."""

import hashlib
import re
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from werkzeug.security import check_password_hash, generate_password_hash

from ..errors import Conflict, Invalid, Unauthorized
from ..extensions import db
from ..models import AuthToken, User, utcnow
from . import storage

EMAIL_PATTERN = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$")
PASSWORD_MIN_LENGTH = 8
PASSWORD_MAX_LENGTH = 256
# Computed once so an unknown email costs as much as a wrong password (no timing oracle).
_DUMMY_HASH = generate_password_hash("not-a-real-password", method="scrypt")


@dataclass(frozen=True)
class IssuedToken:
    """A freshly issued token: the only moment its plain value exists."""

    token: str
    expires_at: datetime
    user: User


def normalise_email(raw: object) -> str:
    """Trim and lower-case an email, or raise Invalid."""
    if not isinstance(raw, str) or not EMAIL_PATTERN.match(raw.strip()) or len(raw.strip()) > 254:
        raise Invalid("A valid email address is required.", code="invalid_email")
    return raw.strip().lower()


def _check_password(raw: object) -> str:
    if not isinstance(raw, str) or not raw.strip():
        raise Invalid("A password is required.", code="invalid_password")
    if len(raw) < PASSWORD_MIN_LENGTH or len(raw) > PASSWORD_MAX_LENGTH:
        raise Invalid(
            f"The password must be {PASSWORD_MIN_LENGTH} to {PASSWORD_MAX_LENGTH} characters long.",
            code="weak_password",
        )
    if raw.isdigit() or (raw.isalpha() and raw.lower() == raw):
        raise Invalid("The password is too easy to guess: mix letters with digits or symbols.", code="weak_password")
    return raw


def _hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _issue_token(user: User, ttl_hours: int) -> IssuedToken:
    token = secrets.token_urlsafe(32)
    expires_at = utcnow() + timedelta(hours=ttl_hours)
    db.session.add(AuthToken(user_id=user.id, token_hash=_hash_token(token), expires_at=expires_at))
    return IssuedToken(token=token, expires_at=expires_at, user=user)


def register(email: object, password: object, ttl_hours: int) -> IssuedToken:
    """Create an account and log it in; 409 when the email is taken."""
    user = User(email=normalise_email(email), password_hash=generate_password_hash(_check_password(password)))
    db.session.add(user)
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        raise Conflict("An account with this email already exists.", code="email_taken") from None
    issued = _issue_token(user, ttl_hours)
    db.session.commit()
    return issued


def login(email: object, password: object, ttl_hours: int) -> IssuedToken:
    """Check credentials and issue a token; the same 401 for a wrong email or password."""
    if not isinstance(email, str) or not isinstance(password, str) or not password:
        raise Invalid("Email and password are required.", code="invalid_credentials")
    user = db.session.scalar(select(User).where(User.email == email.strip().lower()))
    if user is None:
        check_password_hash(_DUMMY_HASH, password)
        raise Unauthorized("Email or password is wrong.", code="invalid_credentials")
    if not check_password_hash(user.password_hash, password):
        raise Unauthorized("Email or password is wrong.", code="invalid_credentials")
    issued = _issue_token(user, ttl_hours)
    db.session.commit()
    return issued


def authenticate(token: str) -> User:
    """The user a live token belongs to, or Unauthorized."""
    row = db.session.execute(
        select(User, AuthToken)
        .join(AuthToken, AuthToken.user_id == User.id)
        .where(AuthToken.token_hash == _hash_token(token))
    ).first()
    if row is None:
        raise Unauthorized("The token is not valid.", code="invalid_token")
    user, auth = row
    if auth.revoked_at is not None:
        raise Unauthorized("The token has been revoked.", code="revoked_token")
    if auth.expires_at <= utcnow():
        raise Unauthorized("The token has expired.", code="expired_token")
    return user


def logout(token: str) -> None:
    """Revoke one token."""
    db.session.execute(
        update(AuthToken)
        .where(AuthToken.token_hash == _hash_token(token), AuthToken.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )
    db.session.commit()


def delete_account(user_id: uuid.UUID, upload_dir: str) -> None:
    """Erase a user: every row (cascades carry sessions, images, vectors, jobs, logs, tokens) and every file."""
    db.session.execute(db.delete(User).where(User.id == user_id))
    db.session.commit()
    storage.delete_tree(upload_dir, str(user_id))
