"""A user's data export: a ZIP with their images and a JSON of sessions, analyses, consents, schedule and cycle
log."""

import io
import json
import uuid
import zipfile

from ..models import CaptureSession, User
from ..store import consents as consent_rows
from ..store import images, results
from ..store import schedules as schedule_rows
from ..store import sessions as session_rows
from .consents import record_fields
from .cycle_log import all_entries
from .schedule import settings_of


def export_user(user: User) -> bytes:
    """Everything stored about `user`, as ZIP bytes."""
    stored = results.by_session(user.id)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        manifest = {
            "account": {"email": user.email, "created_at": user.created_at.isoformat()},
            "consents": [record_fields(entry) for entry in consent_rows.history(user.id)],
            "schedule": _schedule(user.id),
            "cycle_log": all_entries(user.id),
            "sessions": [],
        }
        for session in session_rows.all_of(user.id):
            entry = _session_entry(session, stored.get(session.id))
            for image in session.images:
                name = f"images/{session.id}/{image.angle}-{image.id}.jpg"
                try:
                    archive.writestr(name, images.original(image))
                except FileNotFoundError:
                    name = None
                entry["images"].append({"id": str(image.id), "angle": image.angle, "file": name})
            manifest["sessions"].append(entry)
        archive.writestr("data.json", json.dumps(manifest, indent=2, default=str))
    return buffer.getvalue()


def _session_entry(session: CaptureSession, result: dict | None) -> dict:
    return {
        "id": str(session.id),
        "session_type": session.session_type,
        "status": session.status,
        "notes": session.notes,
        "created_at": session.created_at.isoformat(),
        "analysis": result,
        "images": [],
    }


def _schedule(user_id: uuid.UUID) -> dict | None:
    row = schedule_rows.of_user(user_id)
    return None if row is None else settings_of(row)


def export_filename(user_id: uuid.UUID) -> str:
    """The download's file name (ids only)."""
    return f"bcd-export-{user_id}.zip"
