"""A person's cycle log: one entry per day in her time zone, her free text sealed with her key; where a date falls
in her cycle for the analysis, the schedule and the report."""

import json
import uuid
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from ..constants import ANALYSIS_CONSENT
from ..db import db
from ..errors import Invalid, NotFound
from ..habit.cycle import Logged, Place, where_in_cycle
from ..models import CycleLog, utcnow
from ..schemas.requests import CycleLogIn, CycleRange, calendar_date
from ..store import cycle_logs as store
from ..store import keys
from ..store import schedules as schedule_rows
from . import consents

# How far ahead of her own today a day can be logged (a time zone ahead of the server's, a day just begun).
AHEAD_DAYS = 1


def _text_id(user_id: uuid.UUID, day: date) -> str:
    """The name a day's sealed text is sealed under."""
    return f"cycle_logs.text/{user_id}/{day.isoformat()}"


def _day(text: str) -> date:
    """The path's date, 400 when it is not one."""
    try:
        return calendar_date(text)
    except ValueError:
        raise Invalid(f"{text!r} is not a date: use YYYY-MM-DD.", code="invalid_date") from None


def local_today(user_id: uuid.UUID) -> date:
    """Today in the person's time zone."""
    return utcnow().astimezone(ZoneInfo(schedule_rows.timezone_of(user_id))).date()


def _text(row: CycleLog) -> dict:
    opened = keys.open_column(row.user_id, _text_id(row.user_id, row.day), row.sealed_text)
    return json.loads(opened) if opened else {}


def entry_fields(row: CycleLog) -> dict:
    """A day's entry as the API and the export give it (her text opened)."""
    text = _text(row)
    return {
        "date": row.day.isoformat(),
        "phase": row.phase,
        "period_start": row.period_start.isoformat() if row.period_start else None,
        "cycle_length": row.cycle_length,
        "symptoms": list(row.symptoms),
        "other_symptom": text.get("other_symptom"),
        "notes": text.get("notes"),
        "updated_at": row.updated_at.isoformat(),
    }


def put_entry(user_id: uuid.UUID, day_text: str, entry: CycleLogIn, *, consent_required: bool) -> dict:
    """Write a day's entry whole: 400 for a day more than a day ahead of her today or a period start after the
    day; with `consent_required`, 403 until she consented to the processing of her health data."""
    day = _day(day_text)
    if consent_required:
        consents.require(user_id, ANALYSIS_CONSENT)
    if day > local_today(user_id) + timedelta(days=AHEAD_DAYS):
        raise Invalid("A day of the cycle log can be at most a day ahead of today.", code="date_in_future")
    if entry.period_start is not None and entry.period_start > day:
        raise Invalid("period_start is the first day of the last period: not after the day logged.")
    text = {"notes": entry.notes, "other_symptom": entry.other_symptom}
    sealed = json.dumps(text).encode() if any(text.values()) else None
    row = store.put(
        {
            "user_id": user_id,
            "day": day,
            "phase": entry.phase,
            "period_start": entry.period_start,
            "cycle_length": entry.cycle_length,
            "symptoms": list(entry.symptoms),
            "sealed_text": keys.seal_column(user_id, _text_id(user_id, day), sealed),
            "updated_at": utcnow(),
        }
    )
    db.session.commit()
    return entry_fields(row)


def delete_entry(user_id: uuid.UUID, day_text: str) -> None:
    """Remove a day's entry; 404 when there is none."""
    if not store.remove(user_id, _day(day_text)):
        raise NotFound("No cycle log entry for that day.")
    db.session.commit()


def entries(user_id: uuid.UUID, days: CycleRange) -> list[dict]:
    """Her entries in a range, oldest first."""
    return [entry_fields(row) for row in store.between(user_id, days.first, days.last)]


def all_entries(user_id: uuid.UUID) -> list[dict]:
    """Her whole log, oldest first (the export)."""
    return [entry_fields(row) for row in store.all_of(user_id)]


def logged(user_id: uuid.UUID) -> list[Logged]:
    """Her log as the cycle estimate reads it (no text opened)."""
    return [Logged(row.day, row.phase, row.period_start, row.cycle_length) for row in store.all_of(user_id)]


def place_at(entries: list[Logged], moment: datetime, zone: ZoneInfo) -> Place:
    """Where a moment fell in her cycle: its day in her zone, placed by her log."""
    return where_in_cycle(entries, moment.astimezone(zone).date())


def days_text(user_id: uuid.UUID) -> dict[date, tuple[list[str], str | None, str | None]]:
    """Each logged day's symptoms, other symptom and notes, for a report she chose to show them in."""
    opened = {}
    for row in store.all_of(user_id):
        text = _text(row)
        opened[row.day] = (list(row.symptoms), text.get("other_symptom"), text.get("notes"))
    return opened
