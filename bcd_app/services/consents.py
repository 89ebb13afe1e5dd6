"""The consent ledger: the versioned texts, consents given and withdrawn, and the check an analysis must pass."""

import hashlib
import uuid
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from ..constants import CONSENT_KINDS
from ..db import db
from ..errors import Conflict, Forbidden, Invalid
from ..models import ConsentRecord
from ..store import consents as store

TEXTS = Path(__file__).resolve().parents[1] / "consent_texts"


@dataclass(frozen=True)
class ConsentText:
    """One version of one consent text."""

    kind: str
    version: str
    sha256: str
    text: str


@cache
def texts(kind: str) -> dict[str, ConsentText]:
    """Every version of a kind's text (the files bcd_app/consent_texts/<kind>/<n>.md), by version, oldest first."""
    files = sorted((TEXTS / kind).glob("*.md"), key=lambda path: int(path.stem))
    return {
        path.stem: ConsentText(kind, path.stem, hashlib.sha256(path.read_bytes()).hexdigest(), path.read_text())
        for path in files
    }


def current_text(kind: str) -> ConsentText:
    """The version of a kind's text a consent must be given to now (the highest number)."""
    return list(texts(kind).values())[-1]


def record(user_id: uuid.UUID, kind: str, version: str, accepted: bool) -> ConsentRecord:
    """Append a consent given or withdrawn. Only the current text can be accepted (400 for an unknown version,
    409 for an older one); any version can be withdrawn."""
    known = texts(kind)
    if version not in known:
        raise Invalid(f"version: {kind} has no version {version!r}.", code="unknown_version")
    current = current_text(kind)
    if accepted and version != current.version:
        raise Conflict(
            f"Version {version} of {kind} is no longer current; read and accept version {current.version}.",
            code="stale_version",
        )
    entry = store.append(user_id, kind, version, known[version].sha256, accepted)
    db.session.commit()
    return entry


def record_fields(entry: ConsentRecord) -> dict:
    """One ledger record as the API and the export give it."""
    return {
        "kind": entry.kind,
        "version": entry.version,
        "text_sha256": entry.text_sha256,
        "accepted": entry.accepted,
        "recorded_at": entry.recorded_at.isoformat(),
    }


def state(user_id: uuid.UUID) -> tuple[list[dict], list[ConsentRecord]]:
    """Every kind's state (last answer; current when it accepted today's text) and the whole ledger."""
    history = store.history(user_id)
    last = {entry.kind: entry for entry in history}
    states = []
    for kind in CONSENT_KINDS:
        entry, current = last.get(kind), current_text(kind)
        states.append(
            {
                "kind": kind,
                "accepted": bool(entry and entry.accepted),
                "version": entry.version if entry else None,
                "current_version": current.version,
                "current": bool(entry and entry.accepted and entry.text_sha256 == current.sha256),
                "recorded_at": entry.recorded_at.isoformat() if entry else None,
            }
        )
    return states, history


def require(user_id: uuid.UUID, kind: str) -> None:
    """403 consent_required unless the person's last answer of `kind` accepted its current text."""
    entry = store.latest(user_id, kind)
    current = current_text(kind)
    if entry is None or not entry.accepted or entry.text_sha256 != current.sha256:
        raise Forbidden(
            f"Consent to {kind} (version {current.version}) is needed first: GET /api/consent-texts/{kind}, "
            "then POST /api/consents.",
            code="consent_required",
        )
