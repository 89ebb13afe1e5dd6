"""Request bodies and query strings, validated where they enter: types, lengths, no control characters."""

import uuid
from typing import Literal

from pydantic import Field

from ..constants import ANGLES, MIN_ANGLES
from .common import Line, Model, Paragraph

# Passwords: NIST SP 800-63B asks for at least 8 characters and allows at least 64.
PASSWORD_MIN_LENGTH = 8
PASSWORD_MAX_LENGTH = 256
EMAIL_MAX_LENGTH = 254
MAX_NOTES_LENGTH = 2000
# Far beyond any real history; keeps OFFSET inside PostgreSQL's bigint.
MAX_PAGE = 100_000


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
