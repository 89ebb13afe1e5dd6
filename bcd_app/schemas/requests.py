"""Request bodies and query strings, validated where they enter: types, lengths, no control characters."""

import uuid
from functools import cache
from typing import Literal
from zoneinfo import available_timezones as _zones

from pydantic import Field, field_validator

from ..constants import ANGLES, CONSENT_KINDS, MIN_ANGLES
from .common import Line, Model, Paragraph

# Passwords: NIST SP 800-63B asks for at least 8 characters and allows at least 64.
PASSWORD_MIN_LENGTH = 8
PASSWORD_MAX_LENGTH = 256
EMAIL_MAX_LENGTH = 254
MAX_NOTES_LENGTH = 2000
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


class ShareIn(Model):
    """A share link to make: which session, for how many days, and a note for the person herself."""

    session_id: uuid.UUID
    expires_in_days: int = Field(default=7, ge=1, le=30)
    note: Paragraph | None = Field(default=None, max_length=500)
