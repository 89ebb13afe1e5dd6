"""Building blocks of every model: checked text, the success envelope and the error body."""

import unicodedata
from typing import Annotated, Generic, Literal, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

T = TypeVar("T")


def _clean_text(value: str, *, allow_newlines: bool) -> str:
    """Refuse what PostgreSQL or a log line must never receive: lone surrogates, NUL and other controls."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("must be valid Unicode text (no lone surrogates)") from None
    allowed = {"\n", "\r", "\t"} if allow_newlines else set()
    if any(unicodedata.category(ch) == "Cc" and ch not in allowed for ch in value):
        raise ValueError("must not contain control characters")
    return value


def _line(value: str) -> str:
    return _clean_text(value, allow_newlines=False)


def _paragraph(value: str) -> str:
    return _clean_text(value, allow_newlines=True)


# One line of text (emails, passwords, ids) and free text that may span lines (notes).
Line = Annotated[str, AfterValidator(_line)]
Paragraph = Annotated[str, AfterValidator(_paragraph)]
Fraction = Annotated[float, Field(ge=0.0, le=1.0)]


class Model(BaseModel):
    """Base of every API model: unknown fields are ignored, never assigned."""

    model_config = ConfigDict(extra="ignore", frozen=True)


class Ok(Model, Generic[T]):
    """The frontend's success envelope: {"success": true, "data": ...}."""

    success: Literal[True] = True
    data: T


class ErrorInfo(Model):
    """A machine-readable code and a sentence for people."""

    code: str
    message: str


class ErrorBody(Model):
    """The one error shape: `detail` repeats the message for the frontend, which shows it."""

    error: ErrorInfo
    detail: str
    request_id: str | None = None
