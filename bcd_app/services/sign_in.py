"""Signing in: the password (limited per account, or per known device, and per address), the verified email,
the second factor's challenge, her device's token, and a mail when a sign-in comes from somewhere new or her
account is locked."""

import secrets
import uuid
from dataclasses import dataclass
from datetime import timedelta

from ..db import db
from ..errors import Forbidden, Unauthorized
from ..models import User, utcnow
from ..store import account_tokens as token_rows
from ..store import accounts as store
from . import account_mail, activity, login_limits, mail, passwords, second_factor
from .accounts import IssuedToken, hash_token, issue_token
from .activity import Client
from .clients import limited_address

# A sign-in waiting for its second factor: the challenge's kind and lifetime.
CHALLENGE = "second_factor"
CHALLENGE_LIFETIME = timedelta(minutes=5)


@dataclass(frozen=True)
class Attempt:
    """Who is signing in: her email and password, the request's client and address, and her device's token."""

    email: str
    password: str
    client: Client
    address: str | None
    device_token: str | None = None


@dataclass(frozen=True)
class Answer:
    """A sign-in's answer: a token, or a challenge for the second factor."""

    issued: IssuedToken | None = None
    challenge: str | None = None


def _known_device(device_token: str | None, email: str) -> str | None:
    """The token's hash when it is a device this email's account signed in from."""
    if not device_token:
        return None
    token_hash = hash_token(device_token)
    device = token_rows.device(token_hash)
    if device is None:
        return None
    owner = db.session.get(User, device.user_id)
    return token_hash if owner is not None and owner.email == email else None


def _locked(email: str, client: Client) -> None:
    """Her account's count refused a sign-in: record it and mail her, once per window."""
    user = store.user_by_email(email)
    if user is None:
        return
    last = token_rows.latest_event(user.id, "sign_in_failures")
    if last is not None and last > utcnow() - login_limits.WINDOW:
        return
    activity.record(user.id, "sign_in_failures", client)
    mail.queue(
        user.id,
        account_mail.notice(
            user.email,
            "Several wrong passwords were tried for your account",
            "Several wrong passwords were tried for your account, so signing in with a password is paused for "
            "15 minutes. Browsers you signed in from before can still sign in.",
        ),
    )
    db.session.commit()


def _device(user: User, known: str | None, sent: str | None) -> str:
    """Her device's token: the one she sent when it is known, else a new one kept for her."""
    if known is not None:
        return sent
    token = secrets.token_urlsafe(32)
    token_rows.add_device(user.id, hash_token(token))
    return token


def _signed_in(user: User, ttl_hours: int, attempt: Attempt, known: str | None) -> IssuedToken:
    """Issue the token, remember the device, record the sign-in and mail her when it comes from a browser family
    or an address prefix she never signed in from (the caller commits)."""
    agent_seen, prefix_seen = token_rows.seen_before(user.id, attempt.client.agent, attempt.client.prefix)
    first = token_rows.latest_event(user.id, "sign_in") is None
    issued = issue_token(user, ttl_hours, attempt.client)
    device = _device(user, known, attempt.device_token)
    activity.record(user.id, "sign_in", attempt.client)
    if not first and not (agent_seen and prefix_seen):
        mail.queue(
            user.id,
            account_mail.notice(
                user.email,
                "A new sign-in to your account",
                f"Your account was signed in to from a {attempt.client.agent} browser on the network "
                f"{attempt.client.prefix}.",
            ),
        )
    return IssuedToken(issued.token, issued.expires_at, user, device)


def login(attempt: Attempt, ttl_hours: int, *, secret: str, verification_required: bool) -> Answer:
    """Check a password: a token, or a challenge when her second factor is on. The same 401 for a wrong email or
    password; 429 past a limit (her known device is counted on its own, never by her account's count); 403
    email_not_verified for the right password of an unverified account."""
    email = attempt.email.strip().lower()
    known = _known_device(attempt.device_token, email)
    counted = [("device", known) if known else ("account", email), ("address", limited_address(attempt.address))]
    try:
        reserved = login_limits.reserve(secret, counted)
    except login_limits.Refused as refused:
        if "account" in refused.kinds:
            _locked(email, attempt.client)
        raise
    user = store.user_by_email(email)
    matches = passwords.verify(None if user is None else user.password_hash, attempt.password)
    if user is None or not matches:
        login_limits.failed(reserved)
        db.session.commit()
        raise Unauthorized("Email or password is wrong.", code="invalid_credentials")
    login_limits.passed(reserved, secret, [("account", email)] if not known else [("device", known)])
    if passwords.outdated(user.password_hash):
        user.password_hash = passwords.hash_password(attempt.password)
    if verification_required and user.email_verified_at is None:
        db.session.commit()
        raise Forbidden(
            "Confirm your email address first: open the link in the mail we sent.", code="email_not_verified"
        )
    if second_factor.enabled(user):
        challenge = secrets.token_urlsafe(32)
        token_rows.add_token(user.id, CHALLENGE, hash_token(challenge), utcnow() + CHALLENGE_LIFETIME)
        db.session.commit()
        return Answer(challenge=challenge)
    issued = _signed_in(user, ttl_hours, attempt, known)
    db.session.commit()
    return Answer(issued=issued)


def second_factor_login(challenge: str, code: str, attempt: Attempt, ttl_hours: int, *, secret: str) -> IssuedToken:
    """Finish a sign-in with a TOTP or recovery code: the challenge takes five codes at most, and is spent by the
    right one."""
    challenge_hash = hash_token(challenge)
    reserved = login_limits.reserve(secret, [("challenge", challenge_hash)])
    user_id = token_rows.use_token(CHALLENGE, challenge_hash)
    user = None if user_id is None else db.session.get(User, uuid.UUID(str(user_id)))
    if user is None or not second_factor.check(user, code):
        db.session.rollback()
        login_limits.failed(reserved)
        db.session.commit()
        raise Unauthorized("The code is not valid, or the sign-in took too long.", code="invalid_code")
    login_limits.passed(reserved, secret, [])
    issued = _signed_in(user, ttl_hours, attempt, _known_device(attempt.device_token, user.email))
    db.session.commit()
    return issued
