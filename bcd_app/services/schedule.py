"""A person's check-in schedule, when her next check-ins are due, and her calendar feed."""

import base64
import hashlib
import hmac
import secrets
import uuid
from datetime import datetime, time

from ..db import db
from ..errors import NotFound
from ..habit.cycle import check_dates
from ..habit.feed import calendar_feed
from ..habit.schedule import Plan, next_due, upcoming
from ..models import Schedule, utcnow
from ..schemas.requests import ScheduleIn
from ..store import schedules as store
from .accounts import hash_token
from .cycle_log import logged

# Check-ins the feed lists ahead (a phone refreshes a subscription every few hours to a day).
FEED_EVENTS = 8


def _plan(row: Schedule) -> Plan:
    """The row's plan, with the dates on her chosen cycle day her cycle log gives."""
    on_cycle = () if row.cycle_check_day is None else tuple(check_dates(logged(row.user_id), row.cycle_check_day))
    return Plan(row.quick_every_days, row.full_every_days, row.cycle_day, row.timezone, row.reminder_time, on_cycle)


def _token(secret: str, user_id: uuid.UUID, nonce: str) -> str:
    """The feed's token: derived from the row's nonce with the app's key, so the table alone cannot open a feed
    (it keeps the token's hash) while the owner can be shown her link again."""
    digest = hmac.new(secret.encode(), f"calendar:{user_id}:{nonce}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def _new_token(user_id: uuid.UUID, secret: str) -> dict:
    nonce = secrets.token_hex(16)
    return {"calendar_nonce": nonce, "calendar_token_hash": hash_token(_token(secret, user_id, nonce))}


def _row(user_id: uuid.UUID, secret: str) -> Schedule:
    """The person's schedule, locked, made with the defaults (and a feed token) on first use."""
    row = store.of_user(user_id, for_update=True)
    if row is None:
        defaults = ScheduleIn()
        store.add_if_missing(
            user_id=user_id,
            quick_every_days=defaults.quick_every_days,
            full_every_days=defaults.full_every_days,
            cycle_day=defaults.cycle_day,
            cycle_check_day=defaults.cycle_check_day,
            timezone=defaults.timezone,
            reminder_time=time.fromisoformat(defaults.reminder_time),
            updated_at=utcnow(),
            **_new_token(user_id, secret),
        )
        row = store.of_user(user_id, for_update=True)
    return row


def settings_of(row: Schedule) -> dict:
    """A schedule's settings as the API and the export give them."""
    return {
        "quick_every_days": row.quick_every_days,
        "full_every_days": row.full_every_days,
        "cycle_day": row.cycle_day,
        "cycle_check_day": row.cycle_check_day,
        "timezone": row.timezone,
        "reminder_time": row.reminder_time.strftime("%H:%M"),
    }


def _answer(row: Schedule, secret: str, now: datetime) -> dict:
    due = next_due(_plan(row), *store.last_completed(row.user_id), now)
    return {
        **settings_of(row),
        "next_quick_due": due.next_quick.isoformat(),
        "next_full_due": due.next_full.isoformat(),
        "overdue": due.overdue,
        "calendar_token": _token(secret, row.user_id, row.calendar_nonce),
    }


def get_schedule(user_id: uuid.UUID, secret: str) -> dict:
    """The schedule and the next due check-ins."""
    row = _row(user_id, secret)
    db.session.commit()
    return _answer(row, secret, utcnow())


def set_schedule(user_id: uuid.UUID, wanted: ScheduleIn, secret: str) -> dict:
    """Replace the schedule (the feed's token stays)."""
    row = _row(user_id, secret)
    row.quick_every_days = wanted.quick_every_days
    row.full_every_days = wanted.full_every_days
    row.cycle_day = wanted.cycle_day
    row.cycle_check_day = wanted.cycle_check_day
    row.timezone = wanted.timezone
    row.reminder_time = time.fromisoformat(wanted.reminder_time)
    row.updated_at = utcnow()
    db.session.commit()
    return _answer(row, secret, utcnow())


def renew_calendar_token(user_id: uuid.UUID, secret: str) -> dict:
    """A new feed link; the old one answers 404 from now on."""
    row = _row(user_id, secret)
    for field, value in _new_token(user_id, secret).items():
        setattr(row, field, value)
    db.session.commit()
    return _answer(row, secret, utcnow())


def feed(token: str) -> bytes:
    """The iCalendar feed a token opens; 404 for any other token."""
    row = store.by_token_hash(hash_token(token))
    if row is None:
        raise NotFound("Calendar not found.")
    now = utcnow()
    events = upcoming(_plan(row), *store.last_completed(row.user_id), now, FEED_EVENTS)
    return calendar_feed(events, row.calendar_token_hash[:16], now)
