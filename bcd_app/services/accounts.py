"""Accounts and their sign-ins: the email and password rules, bearer tokens (checked, idle-limited, listed and
ended), sudo mode, the password change, erasure."""

import hashlib
import re
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.exc import OperationalError
from zxcvbn import zxcvbn

from ..db import contended, db
from ..errors import Forbidden, Invalid, NotFound, Unauthorized
from ..models import AuthToken, User, utcnow
from ..schemas.requests import EMAIL_MAX_LENGTH, PASSWORD_MIN_LENGTH
from ..store import account_tokens as token_rows
from ..store import accounts as store
from ..store import keys
from ..store.files import storage, user_prefix
from . import account_mail, activity, login_limits, mail, passwords, second_factor
from .activity import Client

EMAIL_PATTERN = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$")
# zxcvbn's score (0-4) below which a password is refused: 0-1 are the common, breached and patterned ones
# (password1, 12345678a, qwertyuiop), under a million guesses.
MIN_PASSWORD_SCORE = 2
# A local part this long found in the password makes it guessable from the email.
EMAIL_IN_PASSWORD_MIN = 3
# A token's last use is written at most once per this much time (not on every request).
LAST_USE_GRAIN = timedelta(minutes=1)
# How often an erasure's delete is tried when PostgreSQL ends it as a deadlock's victim.
ERASE_ATTEMPTS = 3


@dataclass(frozen=True)
class IssuedToken:
    """A freshly issued token (and, from a sign-in, her device's token): the only moment its plain value exists."""

    token: str
    expires_at: datetime
    user: User
    device_token: str | None = None


def normalise_email(raw: str) -> str:
    """Trim and lower-case an email, or raise Invalid (the length is checked after lower-casing, which can
    lengthen it: 'İ' becomes two characters)."""
    email = raw.strip().lower()
    if not EMAIL_PATTERN.match(email) or len(email) > EMAIL_MAX_LENGTH:
        raise Invalid(
            f"email: a valid address of at most {EMAIL_MAX_LENGTH} characters is required.", code="invalid_email"
        )
    return email


def check_password(password: str, email: str) -> str:
    """NIST SP 800-63B: at least 8 characters, not common or breached (zxcvbn's lists and patterns), and not
    built from the email."""
    if len(password) < PASSWORD_MIN_LENGTH:
        raise Invalid(f"password: at least {PASSWORD_MIN_LENGTH} characters are required.", code="weak_password")
    local = email.split("@", 1)[0]
    if len(local) >= EMAIL_IN_PASSWORD_MIN and local in password.lower():
        raise Invalid("password: it must not contain your email address.", code="weak_password")
    if zxcvbn(password[:100], user_inputs=[email, local])["score"] < MIN_PASSWORD_SCORE:
        raise Invalid(
            "password: it is too common or too easy to guess; a few unrelated words make a strong one.",
            code="weak_password",
        )
    return password


def hash_token(token: str) -> str:
    """How every token the service hands out is kept (bearer tokens, share links, calendar feeds): its SHA-256."""
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(user: User, ttl_hours: int, client: Client) -> IssuedToken:
    """A new sign-in of `user` (the caller commits)."""
    token = secrets.token_urlsafe(32)
    expires_at = utcnow() + timedelta(hours=ttl_hours)
    store.add_token(user.id, hash_token(token), expires_at, client.agent, client.prefix)
    return IssuedToken(token=token, expires_at=expires_at, user=user)


def authenticate(token: str, idle_hours: int) -> tuple[User, AuthToken]:
    """The user a live token belongs to and its row, or Unauthorized (revoked, expired, or unused for longer than
    the idle limit). Its last use is kept to the minute."""
    found = store.token_owner(hash_token(token))
    if found is None:
        raise Unauthorized("The token is not valid.", code="invalid_token")
    user, auth = found
    now = utcnow()
    if auth.revoked_at is not None:
        raise Unauthorized("The token has been revoked.", code="revoked_token")
    if auth.expires_at <= now:
        raise Unauthorized("The token has expired.", code="expired_token")
    last_used = auth.last_used_at or auth.created_at
    if last_used <= now - timedelta(hours=idle_hours):
        raise Unauthorized("The token was not used for too long; sign in again.", code="expired_token")
    if now - last_used >= LAST_USE_GRAIN:
        auth.last_used_at = now
        db.session.commit()
    return user, auth


def logout(token: str) -> None:
    """Revoke one token."""
    store.revoke_token(hash_token(token))
    db.session.commit()


def sign_ins(user_id: uuid.UUID, current: AuthToken, idle_hours: int) -> list[dict]:
    """Her live sign-ins, newest first; `current` marks the one asking."""
    return [
        {
            "id": str(row.id),
            "created_at": row.created_at.isoformat(),
            "last_used_at": (row.last_used_at or row.created_at).isoformat(),
            "agent_family": row.agent_family or "other desktop",
            "address_prefix": row.address_prefix or "unknown",
            "current": row.id == current.id,
        }
        for row in store.live_tokens(user_id, utcnow() - timedelta(hours=idle_hours))
    ]


def end_sign_in(user_id: uuid.UUID, sign_in_id: object, client: Client) -> None:
    """End one of her sign-ins (404 when it is none of hers)."""
    try:
        wanted = uuid.UUID(str(sign_in_id))
    except ValueError:
        wanted = None
    if wanted is None or store.revoke_tokens(user_id, only=wanted) == 0:
        raise NotFound("Sign-in not found.")
    activity.record(user_id, "sessions_revoked", client)
    db.session.commit()


def end_all_sign_ins(user_id: uuid.UUID, client: Client) -> None:
    """End every sign-in of hers, the asking one too."""
    store.revoke_tokens(user_id)
    activity.record(user_id, "sessions_revoked", client)
    db.session.commit()


def require_fresh(auth: AuthToken, window_seconds: int) -> None:
    """Sudo mode: 403 reauthentication_required unless her password or a code was given on this sign-in within
    the window."""
    given = auth.reauthenticated_at
    if given is None or given <= utcnow() - timedelta(seconds=window_seconds):
        raise Forbidden(
            "Enter your password again to do this (POST /api/auth/reauthenticate).", code="reauthentication_required"
        )


def _check_password_given(user: User, password: str, secret: str) -> None:
    """Her password, limited like a login under her account's own count; 401 when wrong."""
    counted = [("password", str(user.id))]
    wrong = Unauthorized("The password is wrong.", code="invalid_credentials")
    login_limits.checked(secret, counted, lambda: passwords.verify(user.password_hash, password), wrong, counted)
    if passwords.outdated(user.password_hash):
        user.password_hash = passwords.hash_password(password)


def reauthenticate(user: User, auth: AuthToken, password: str | None, code: str | None, secret: str) -> None:
    """Sudo mode from her password or a code (TOTP or recovery); 401 when wrong."""
    if password:
        _check_password_given(user, password, secret)
    else:
        counted = [("password", str(user.id))]
        wrong = Unauthorized("The code is not valid.", code="invalid_code")
        login_limits.checked(secret, counted, lambda: second_factor.check(user, code or ""), wrong, [])
    auth.reauthenticated_at = utcnow()
    db.session.commit()


def change_password(user: User, auth: AuthToken, current: str, new: str, secret: str, client: Client) -> None:
    """A new password from the current one: every other sign-in ends, this one stays (and counts as fresh)."""
    _check_password_given(user, current, secret)
    user.password_hash = passwords.hash_password(check_password(new, user.email))
    store.revoke_tokens(user.id, keep=auth.id)
    auth.reauthenticated_at = utcnow()
    activity.record(user.id, "password_changed", client)
    mail.queue(user.id, account_mail.notice(user.email, "Your password was changed", "Your password was changed."))
    db.session.commit()


def delete_account(user_id: uuid.UUID) -> None:
    """Erase a user: her data key first, in a commit of its own (from then on every copy of her photos, in any
    storage or backup, is unreadable, even if what follows is interrupted), then every row (cascades carry
    sessions, images, vectors, jobs, logs, tokens, consents, share links) and every file. The rows' delete runs
    again when it loses a deadlock to her own analysis finishing (its log row waits on her account row while the
    cascade waits on its job row): PostgreSQL ends one of the two, and the erasure is the one that must not fail."""
    keys.destroy(user_id)
    db.session.commit()
    for attempt in range(ERASE_ATTEMPTS):
        try:
            store.delete_user(user_id)
            db.session.commit()
            break
        except OperationalError as exc:
            db.session.rollback()
            if not contended(exc) or attempt == ERASE_ATTEMPTS - 1:
                raise
    storage().delete_prefix(user_prefix(user_id))


def forget_stale(idle_hours: int) -> None:
    """Drop dead sign-ins, spent or expired single-use tokens and year-old activity (each worker, now and then)."""
    store.forget_tokens(utcnow() - timedelta(hours=idle_hours))
    token_rows.forget_tokens(utcnow())
    activity.forget_old()
    db.session.commit()
