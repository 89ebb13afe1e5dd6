"""Request bodies and query strings, validated where they enter: types, lengths, no control characters."""

import re
import uuid
from datetime import date
from functools import cache
from typing import Annotated, Literal
from zoneinfo import available_timezones as _zones

from pydantic import BeforeValidator, Field, field_validator, model_validator

from ..constants import (
    ANGLES,
    CONSENT_KINDS,
    CYCLE_LENGTH_RANGE,
    CYCLE_PHASES,
    CYCLE_SYMPTOMS,
    DEFAULT_CYCLE_CHECK_DAY,
    MIN_ANGLES,
)
from .common import Line, Model, Paragraph

# Passwords: NIST SP 800-63B asks for at least 8 characters and allows at least 64.
PASSWORD_MIN_LENGTH = 8
PASSWORD_MAX_LENGTH = 256
EMAIL_MAX_LENGTH = 254
MAX_NOTES_LENGTH = 2000
MAX_CYCLE_NOTES_LENGTH = 1000
# The longest range of the cycle log one listing reads (a little over a year).
MAX_CYCLE_RANGE_DAYS = 400
# A calendar date exactly as YYYY-MM-DD (fromisoformat alone also takes 20261203 and week dates).
DATE_PATTERN = r"^\d{4}-\d{2}-\d{2}$"
# Far beyond any real history; keeps OFFSET inside PostgreSQL's bigint.
MAX_PAGE = 100_000


@cache
def available_timezones() -> frozenset[str]:
    """The IANA zones this machine knows (the tzdata package when the system has none); read once."""
    return frozenset(_zones())


class Credentials(Model):
    """Email and password, for registering and for logging in."""

    email: Line = Field(min_length=3, max_length=EMAIL_MAX_LENGTH)
    password: Line = Field(min_length=1, max_length=PASSWORD_MAX_LENGTH)


class LoginIn(Credentials):
    """Email and password, and the device token an earlier sign-in of this browser answered."""

    device_token: Line | None = Field(default=None, max_length=128)


class TokenIn(Model):
    """A token from a mailed link."""

    token: Line = Field(min_length=1, max_length=128)


class EmailIn(Model):
    """An email address (a reset is asked for)."""

    email: Line = Field(min_length=1, max_length=EMAIL_MAX_LENGTH)


class ResetIn(Model):
    """A new password, with the mailed reset token."""

    token: Line = Field(min_length=1, max_length=128)
    new_password: Line = Field(min_length=1, max_length=PASSWORD_MAX_LENGTH)


class PasswordChangeIn(Model):
    """A new password, with the current one."""

    current_password: Line = Field(min_length=1, max_length=PASSWORD_MAX_LENGTH)
    new_password: Line = Field(min_length=1, max_length=PASSWORD_MAX_LENGTH)


class CodeIn(Model):
    """A code of her authenticator app (or, where it says so, a recovery code)."""

    code: Line = Field(min_length=1, max_length=32)


class ReauthIn(Model):
    """Her password, or a code of her second factor."""

    password: Line | None = Field(default=None, min_length=1, max_length=PASSWORD_MAX_LENGTH)
    code: Line | None = Field(default=None, min_length=1, max_length=32)

    @model_validator(mode="after")
    def _one(self) -> "ReauthIn":
        if not (self.password or self.code):
            raise ValueError("give password or code")
        return self


class SecondFactorIn(Model):
    """The sign-in's challenge and a TOTP or recovery code."""

    challenge: Line = Field(min_length=1, max_length=128)
    code: Line = Field(min_length=1, max_length=32)
    device_token: Line | None = Field(default=None, max_length=128)


class NewSession(Model):
    """A capture session to start."""

    session_type: Literal[tuple(MIN_ANGLES)]
    notes: Paragraph | None = Field(default=None, max_length=MAX_NOTES_LENGTH)


class BaselineChoice(Model):
    """The session to use as the baseline."""

    session_id: uuid.UUID


class PageQuery(Model):
    """Pagination of a listing."""

    page: int = Field(default=1, ge=1, le=MAX_PAGE)
    per_page: int = Field(default=20, ge=1, le=100)


class AnalyzeQuery(Model):
    """How to run an analysis: wait for it (default) or not, and whether to re-run a stored one."""

    async_process: bool = False
    force: bool = False


class UploadForm(Model):
    """One photo of one angle, as multipart/form-data."""

    angle: Literal[ANGLES]
    file: bytes = Field(description="A JPEG, PNG or WebP photo.", json_schema_extra={"format": "binary"})


class ScheduleIn(Model):
    """How often a person means to take her photos, and when to remind her (in her own time zone)."""

    quick_every_days: int = Field(default=7, ge=1, le=90)
    full_every_days: int = Field(default=30, ge=7, le=366)
    cycle_day: int | None = Field(default=None, ge=1, le=31, description="Day of the month for the full check-in.")
    cycle_check_day: int | None = Field(
        default=DEFAULT_CYCLE_CHECK_DAY,
        ge=1,
        le=CYCLE_LENGTH_RANGE[1],
        description="Day of her cycle (1 = a period's first day) the full check-in goes to while her cycle log "
        "has a period start; null to keep to full_every_days alone.",
    )
    timezone: Line = Field(default="UTC", max_length=64, description="An IANA zone, e.g. Europe/Berlin.")
    reminder_time: Line = Field(default="09:00", pattern=r"^([01]\d|2[0-3]):[0-5]\d$", description="HH:MM, local.")

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        if value not in available_timezones():
            raise ValueError("must be an IANA time zone such as Europe/Berlin")
        return value


class ConsentIn(Model):
    """A consent given (accepted true) or withdrawn (false), for one version of one text."""

    kind: Literal[CONSENT_KINDS]
    version: Line = Field(min_length=1, max_length=16)
    accepted: bool


class ReportQuery(Model):
    """Whether the report shows the symptoms and notes of her cycle log on its sessions' days."""

    include_cycle_notes: bool = False


class ShareIn(Model):
    """A share link to make: which session, for how many days, and a note for the person herself."""

    session_id: uuid.UUID
    expires_in_days: int = Field(default=7, ge=1, le=30)
    note: Paragraph | None = Field(default=None, max_length=500)
    include_cycle_notes: bool = Field(
        default=False, description="Show the symptoms and notes of her cycle log on the days of the report's sessions."
    )


def calendar_date(value: str) -> date:
    """A YYYY-MM-DD string as a date; ValueError for anything else."""
    if not re.match(DATE_PATTERN, value):
        raise ValueError("must be a date as YYYY-MM-DD")
    return date.fromisoformat(value)


def _strict_date(value: object) -> object:
    return calendar_date(value) if isinstance(value, str) else value


# A date given as text in exactly the YYYY-MM-DD form (pydantic alone also takes other ISO 8601 forms).
CalendarDate = Annotated[date, BeforeValidator(_strict_date)]


class CycleLogIn(Model):
    """One day of her cycle log, written whole (what is left out is cleared)."""

    phase: Literal[CYCLE_PHASES] = "unknown"
    period_start: CalendarDate | None = Field(
        default=None, description="The first day of her last period (YYYY-MM-DD)."
    )
    cycle_length: int | None = Field(default=None, ge=CYCLE_LENGTH_RANGE[0], le=CYCLE_LENGTH_RANGE[1])
    symptoms: list[Literal[CYCLE_SYMPTOMS]] = Field(default_factory=list, max_length=len(CYCLE_SYMPTOMS))
    other_symptom: Line | None = Field(default=None, max_length=100)
    notes: Paragraph | None = Field(default=None, max_length=MAX_CYCLE_NOTES_LENGTH)

    @field_validator("symptoms")
    @classmethod
    def _distinct(cls, value: list[str]) -> list[str]:
        return sorted(set(value), key=CYCLE_SYMPTOMS.index)


class CycleRange(Model):
    """The days of the cycle log to list: from and to, both included, YYYY-MM-DD."""

    first: CalendarDate = Field(alias="from")
    last: CalendarDate = Field(alias="to")

    @model_validator(mode="after")
    def _ordered(self) -> "CycleRange":
        if self.last < self.first:
            raise ValueError("to must not be before from")
        if (self.last - self.first).days >= MAX_CYCLE_RANGE_DAYS:
            raise ValueError(f"a range covers at most {MAX_CYCLE_RANGE_DAYS} days")
        return self
