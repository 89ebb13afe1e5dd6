"""Limits on guessing: failures counted per account, device, address (IPv6 by its /64) or challenge, in
PostgreSQL, exact across workers; reserved before a password or code is checked and settled after."""

import hashlib
import hmac
from collections.abc import Callable
from datetime import timedelta

from ..db import db
from ..errors import ApiError, TooManyAttempts
from ..store import accounts as store

# Login limits per window (OWASP ASVS 2.2.1). Only failures count against an address, because thousands of
# phones share one behind a carrier's NAT (CGNAT): their good logins must never lock each other out. A known
# device is limited on its own, never by its account's count.
WINDOW = timedelta(minutes=15)
ATTEMPTS = {"account": 5, "device": 5, "address": 20, "challenge": 5, "password": 5}
# A failure is reserved before the check (so the limit is exact across workers) and settled after. One never
# settled (the database went away mid-login, the process died) stops counting after this lease: an attempt that
# could not be checked is no failure, and an outage costs no one her sign-in.
RESERVATION = timedelta(seconds=30)


def key(secret: str, kind: str, value: str) -> str:
    """The row key of an account, device, address or challenge: a keyed hash, so the table holds no email or
    address."""
    return f"{kind}:" + hmac.new(secret.encode(), value.encode(), hashlib.sha256).hexdigest()[:40]


class Refused(TooManyAttempts):
    """A limit is used up: which kinds refused, and the seconds until one more attempt is counted."""

    def __init__(self, kinds: list[str], wait: int) -> None:
        super().__init__(f"Too many attempts; try again in {wait} seconds.", headers={"Retry-After": str(wait)})
        self.kinds = kinds


def reserve(secret: str, counted: list[tuple[str, str]]) -> list[int]:
    """Reserve a pending failure under each (kind, value); Refused (429) when any has used its limit (a refused
    attempt checks nothing, so it reserves nothing). Commits."""
    window, lease = WINDOW.total_seconds(), RESERVATION.total_seconds()
    store.forget_old_failures(window)
    reserved, refused, waits = [], [], []
    for kind, value in counted:
        row = store.reserve_failure(key(secret, kind, value), ATTEMPTS[kind], window, lease)
        if row.id is None:
            refused.append(kind)
            waits.append(row.retry_after)
        else:
            reserved.append(row.id)
    if refused:
        store.drop_failures(reserved)
    db.session.commit()
    if refused:
        raise Refused(refused, max(waits))
    return reserved


def failed(reserved: list[int]) -> None:
    """The check failed: the reservations count for the whole window (the caller commits)."""
    store.settle_failures(reserved)


def passed(reserved: list[int], secret: str, cleared: list[tuple[str, str]]) -> None:
    """The check passed: give the reservations back and clear the given keys' failures (the caller commits)."""
    store.drop_failures(reserved)
    for kind, value in cleared:
        store.clear_failures(key(secret, kind, value))


def checked(
    secret: str,
    counted: list[tuple[str, str]],
    check: Callable[[], bool],
    wrong: ApiError,
    cleared: list[tuple[str, str]],
) -> None:
    """Run `check` under the limits of `counted`: a failure counts (committed) and raises `wrong`; a pass gives
    the reservations back and clears the `cleared` keys' failures (the caller commits)."""
    reserved = reserve(secret, counted)
    if not check():
        failed(reserved)
        db.session.commit()
        raise wrong
    passed(reserved, secret, cleared)
