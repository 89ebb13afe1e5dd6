"""Joining and getting back in: registration (the same answer for a new and a taken email when verification is
on), email verification, and the password reset by mail."""

import secrets
import uuid
from dataclasses import dataclass
from datetime import timedelta

from ..db import db
from ..errors import Conflict, Invalid
from ..models import User, utcnow
from ..store import account_tokens as token_rows
from ..store import accounts as store
from ..store import keys
from . import account_mail, activity, mail, passwords
from .accounts import IssuedToken, check_password, hash_token, issue_token, normalise_email
from .activity import Client

# Single-use tokens: their kinds and how long each lives.
VERIFY, RESET = "verify_email", "password_reset"
LIFETIMES = {VERIFY: timedelta(days=2), RESET: timedelta(minutes=30)}
# A reset link (asked for, or sent because someone registered her email) goes at most once per this long: nobody
# can fill her inbox through these forms.
RESET_MAIL_GAP = timedelta(minutes=1)


@dataclass(frozen=True)
class Links:
    """Where the mails' links lead: the frontend's pages."""

    frontend_url: str

    def verify(self, token: str) -> str:
        """The verification page's link."""
        return f"{self.frontend_url}/verify-email?token={token}"

    def reset(self, token: str) -> str:
        """The reset page's link."""
        return f"{self.frontend_url}/reset-password?token={token}"


def _single_use(user_id: uuid.UUID, kind: str) -> str:
    token = secrets.token_urlsafe(32)
    token_rows.add_token(user_id, kind, hash_token(token), utcnow() + LIFETIMES[kind])
    return token


def _reset_mailed_lately(user_id: uuid.UUID) -> bool:
    return token_rows.made_since(user_id, RESET, utcnow() - RESET_MAIL_GAP)


def register(
    email: str, password: str, ttl_hours: int, client: Client, links: Links, *, verification_required: bool
) -> IssuedToken | None:
    """Create an account and mail its verification link. With verification required: nothing is answered (the
    caller answers alike for a new and a taken email; the taken one's owner gets a mail with a reset link);
    otherwise she is signed in at once, and a taken email is 409."""
    address = normalise_email(email)
    user = store.insert_user(address, passwords.hash_password(check_password(password, address)))
    if user is None:
        if not verification_required:
            db.session.rollback()
            raise Conflict("An account with this email already exists.", code="email_taken")
        owner = store.user_by_email(address)
        if not _reset_mailed_lately(owner.id):
            mail.queue(owner.id, account_mail.account_exists(address, links.reset(_single_use(owner.id, RESET))))
        db.session.commit()
        return None
    keys.add_for(user.id)
    mail.queue(user.id, account_mail.verify_email(address, links.verify(_single_use(user.id, VERIFY))))
    if verification_required:
        db.session.commit()
        return None
    issued = issue_token(user, ttl_hours, client)
    activity.record(user.id, "sign_in", client)
    db.session.commit()
    return issued


def verify_email(token: str) -> None:
    """Confirm her address with the mailed token (once; 400 for a spent, expired or unknown one)."""
    user_id = token_rows.use_token(VERIFY, hash_token(token))
    if user_id is None:
        raise Invalid("The link is not valid or has expired.", code="invalid_token")
    user = db.session.get(User, user_id)
    user.email_verified_at = user.email_verified_at or utcnow()
    db.session.commit()


def request_reset(email: str, links: Links) -> None:
    """Mail a reset link when the email has an account; the caller answers alike either way."""
    try:
        address = normalise_email(email)
    except Invalid:
        return
    user = store.user_by_email(address)
    if user is not None and not _reset_mailed_lately(user.id):
        mail.queue(user.id, account_mail.reset_password(address, links.reset(_single_use(user.id, RESET))))
        db.session.commit()


def confirm_reset(token: str, new_password: str, client: Client) -> None:
    """Set a new password with the mailed token (once, within 30 minutes): every sign-in ends, her address counts
    as verified (she opened the mail)."""
    user_id = token_rows.use_token(RESET, hash_token(token))
    if user_id is None:
        raise Invalid("The link is not valid or has expired.", code="invalid_token")
    user = db.session.get(User, user_id)
    user.password_hash = passwords.hash_password(check_password(new_password, user.email))
    user.email_verified_at = user.email_verified_at or utcnow()
    store.revoke_tokens(user.id)
    activity.record(user.id, "password_reset", client)
    mail.queue(user.id, account_mail.notice(user.email, "Your password was reset", "Your password was reset."))
    db.session.commit()


def account_for_tools(email: str, password: str) -> User:
    """An account made directly (benchmarks and operators' tools), verified, without mail or sign-in."""
    address = normalise_email(email)
    user = store.insert_user(address, passwords.hash_password(password))
    keys.add_for(user.id)
    user.email_verified_at = utcnow()
    db.session.commit()
    return user
