"""Accounts and bearer tokens: registration, login, logout, token checks, erasure."""

import hashlib
import hmac
import re
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from werkzeug.security import check_password_hash, generate_password_hash
from zxcvbn import zxcvbn

from ..db import db
from ..errors import Conflict, Invalid, TooManyAttempts, Unauthorized
from ..models import User, utcnow
from ..schemas.requests import EMAIL_MAX_LENGTH, PASSWORD_MIN_LENGTH
from ..store import accounts as store
from ..store import keys
from ..store.files import storage, user_prefix

EMAIL_PATTERN = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$")
# zxcvbn's score (0-4) below which a password is refused: 0-1 are the common, breached and patterned ones
# (password1, 12345678a, qwertyuiop), under a million guesses.
MIN_PASSWORD_SCORE = 2
# A local part this long found in the password makes it guessable from the email.
EMAIL_IN_PASSWORD_MIN = 3
# Computed once so an unknown email costs as much as a wrong password (no timing oracle).
_DUMMY_HASH = generate_password_hash("not-a-real-password", method="scrypt")
# Login limits per window (OWASP ASVS 2.2.1), counted in PostgreSQL before the password is checked, so every
# worker and server sees the same count: an account's failed attempts, and an address's. Only failures count against
# an address, because thousands of phones share one behind a carrier's NAT (CGNAT), and a clinic's or a university's
# network: their good logins must never lock each other out.
LOGIN_WINDOW = timedelta(minutes=15)
LOGIN_ATTEMPTS = {"account": 5, "address": 20}
# A failure is reserved before the password is checked (so the limit is exact across workers) and settled after. One
# never settled (the database went away mid-login, the process died) stops counting after this lease: an attempt
# that could not be checked is no failure, and an outage costs no one her sign-in.
LOGIN_RESERVATION = timedelta(seconds=30)


@dataclass(frozen=True)
class IssuedToken:
    """A freshly issued token: the only moment its plain value exists."""

    token: str
    expires_at: datetime
    user: User


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


def _issue_token(user: User, ttl_hours: int) -> IssuedToken:
    token = secrets.token_urlsafe(32)
    expires_at = utcnow() + timedelta(hours=ttl_hours)
    store.add_token(user.id, hash_token(token), expires_at)
    return IssuedToken(token=token, expires_at=expires_at, user=user)


def register(email: str, password: str, ttl_hours: int) -> IssuedToken:
    """Create an account and log it in; 409 when the email is taken."""
    address = normalise_email(email)
    user = store.insert_user(address, generate_password_hash(check_password(password, address)))
    if user is None:
        db.session.rollback()
        raise Conflict("An account with this email already exists.", code="email_taken")
    keys.add_for(user.id)
    issued = _issue_token(user, ttl_hours)
    db.session.commit()
    return issued


def _throttle_key(secret: str, kind: str, value: str) -> str:
    """The throttle row of an account or address: a keyed hash, so the table holds no email or address."""
    return f"{kind}:" + hmac.new(secret.encode(), value.encode(), hashlib.sha256).hexdigest()[:40]


def _reserve_failures(secret: str, email: str, address: str) -> list[int]:
    """Reserve a pending failure of the account and of the address; 429 when either has used its limit (a refused
    attempt checks no password, so it reserves nothing)."""
    window, lease = LOGIN_WINDOW.total_seconds(), LOGIN_RESERVATION.total_seconds()
    store.forget_old_failures(window)
    reserved, refused = [], []
    for kind, value in (("account", email), ("address", address)):
        row = store.reserve_failure(_throttle_key(secret, kind, value), LOGIN_ATTEMPTS[kind], window, lease)
        if row.id is None:
            refused.append(row.retry_after)
        else:
            reserved.append(row.id)
    if refused:
        store.drop_failures(reserved)
    db.session.commit()
    if refused:
        wait = max(refused)
        raise TooManyAttempts(
            f"Too many login attempts; try again in {wait} seconds.", headers={"Retry-After": str(wait)}
        )
    return reserved


def login(email: str, password: str, ttl_hours: int, *, secret: str, address: str) -> IssuedToken:
    """Check credentials and issue a token; the same 401 for a wrong email or password, 429 past the limits."""
    email = email.strip().lower()
    reserved = _reserve_failures(secret, email, address or "unknown")
    user = store.user_by_email(email)
    # An unknown email is checked against the dummy hash: it costs as much as a wrong password.
    matches = check_password_hash(_DUMMY_HASH if user is None else user.password_hash, password)
    if user is None or not matches:
        store.settle_failures(reserved)
        db.session.commit()
        raise Unauthorized("Email or password is wrong.", code="invalid_credentials")
    # A good password clears the account's failures and gives back this attempt's reservations.
    store.clear_failures(_throttle_key(secret, "account", email))
    store.drop_failures(reserved)
    issued = _issue_token(user, ttl_hours)
    db.session.commit()
    return issued


def authenticate(token: str) -> User:
    """The user a live token belongs to, or Unauthorized."""
    found = store.token_owner(hash_token(token))
    if found is None:
        raise Unauthorized("The token is not valid.", code="invalid_token")
    user, auth = found
    if auth.revoked_at is not None:
        raise Unauthorized("The token has been revoked.", code="revoked_token")
    if auth.expires_at <= utcnow():
        raise Unauthorized("The token has expired.", code="expired_token")
    return user


def logout(token: str) -> None:
    """Revoke one token."""
    store.revoke_token(hash_token(token))
    db.session.commit()


def delete_account(user_id: uuid.UUID) -> None:
    """Erase a user: her data key first, in a commit of its own (from then on every copy of her photos, in any
    storage or backup, is unreadable, even if what follows is interrupted), then every row (cascades carry
    sessions, images, vectors, jobs, logs, tokens, consents, share links) and every file."""
    keys.destroy(user_id)
    db.session.commit()
    store.delete_user(user_id)
    db.session.commit()
    storage().delete_prefix(user_prefix(user_id))
