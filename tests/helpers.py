"""Small helpers tests share: create sessions, upload photos, read envelopes."""

import io
import time
from collections.abc import Callable
from typing import Any


def data_of(response) -> dict:
    """The `data` of a success envelope, asserting success."""
    body = response.get_json()
    assert body["success"] is True, body
    return body["data"]


def create_session(client, headers, session_type: str = "full") -> str:
    """A new session's id."""
    response = client.post("/api/sessions", json={"session_type": session_type}, headers=headers)
    assert response.status_code == 201, response.get_json()
    return data_of(response)["id"]


def upload(client, headers, session_id: str, data: bytes, angle: str = "front", filename: str = "photo.jpg"):
    """POST one file as multipart."""
    return client.post(
        f"/api/sessions/{session_id}/images",
        data={"file": (io.BytesIO(data), filename), "angle": angle},
        headers=headers,
        content_type="multipart/form-data",
    )


def completed_session(client, headers, photo_bytes: dict[str, bytes]) -> str:
    """A completed full session with one image per given angle."""
    session_id = create_session(client, headers)
    for angle, data in photo_bytes.items():
        response = upload(client, headers, session_id, data, angle)
        assert response.status_code == 201, response.get_json()
    response = client.post(f"/api/sessions/{session_id}/complete", headers=headers)
    assert response.status_code == 200, response.get_json()
    return session_id


def wait_until(
    predicate: Callable[[], Any], timeout: float = 60.0, interval: float = 0.1, what: str = "condition"
) -> Any:
    """Poll `predicate` until it returns something truthy (returned), or fail after `timeout` seconds with
    the last value it gave. Every wait in the suite goes through here."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}; last value: {value!r}")
        time.sleep(interval)


def uploads_settled(app) -> None:
    """Wait until this app's background work on uploaded photos (model output, display copy) is done."""
    runner = app.extensions["job_runner"]
    wait_until(lambda: runner.precomputing == 0, timeout=60, interval=0.02, what="uploads' background work")


def plain_object(app, path) -> bytes:
    """A stored file's plain bytes, opened with its owner's key (as the app reads it)."""
    from pathlib import Path

    root = Path(app.config["UPLOAD_DIR"]).resolve()
    with app.app_context():
        return app.extensions["storage"].get(str(Path(path).resolve().relative_to(root)))


def finished_at(app, session_id: str, when) -> None:
    """Mark a session completed as of `when` (its created_at too): a session backdated for due dates and phases."""
    from sqlalchemy import text

    from bcd_app.db import db

    with app.app_context():
        db.session.execute(
            text("UPDATE sessions SET status = 'completed', created_at = :t, completed_at = :t WHERE id = :id"),
            {"t": when, "id": session_id},
        )
        db.session.commit()
