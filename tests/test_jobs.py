"""The job queue in the app process: failures with a reason, idempotent concurrent submits."""

import threading
from pathlib import Path

import pytest
from sqlalchemy import text

from bcd_app.db import db
from tests.helpers import completed_session, data_of, wait_until
from tests.photo_data import SCENES


def _session(client, headers, jpeg) -> str:
    return completed_session(client, headers, {angle: jpeg(name) for angle, name in SCENES.items()})


def _wait_status(client, headers, session_id: str, want: str, timeout: float = 60.0) -> dict:
    def reached() -> dict | None:
        status = data_of(client.get(f"/api/analyze-status/{session_id}", headers=headers))
        return status if status["status"] == want else None

    return wait_until(reached, timeout=timeout, what=f"status {want}")


@pytest.mark.slow
def test_image_deleted_while_queued_fails_with_reason_and_log(app, client, auth, jpeg, upload_dir):
    headers = auth.register()
    session_id = _session(client, headers, jpeg)
    with app.app_context():
        key = db.session.scalar(text("SELECT storage_key FROM images WHERE session_id = :s LIMIT 1"), {"s": session_id})
    for stored in (Path(upload_dir) / key).parent.glob(Path(key).stem + ".*"):  # the photo and its working copy
        stored.unlink()

    response = client.post(f"/api/analyze-session/{session_id}?async_process=true", headers=headers)
    assert response.status_code == 202 and data_of(response)["status"] == "processing"
    status = _wait_status(client, headers, session_id, "failed")
    assert status["error"]["code"] == "image_missing"
    assert "could not be read" in status["error"]["message"]

    sync = client.post(f"/api/analyze-session/{session_id}?async_process=false", headers=headers)
    assert sync.status_code == 409 and sync.get_json()["error"]["code"] == "image_missing"
    with app.app_context():
        logs = db.session.execute(
            text("SELECT status, error FROM analysis_logs WHERE session_id = :s"), {"s": session_id}
        ).all()
        leftovers = db.session.scalar(
            text(
                "SELECT (SELECT count(*) FROM session_analysis WHERE session_id = :s)"
                " + (SELECT count(*) FROM angle_analysis WHERE session_id = :s)"
                " + (SELECT count(*) FROM angle_embeddings WHERE session_id = :s)"
            ),
            {"s": session_id},
        )
    assert len(logs) == 2 and all(status == "failed" and error.startswith("image_missing") for status, error in logs)
    assert leftovers == 0  # no half result


@pytest.mark.slow
def test_concurrent_submits_make_one_job_and_count_once(app, client, auth, jpeg):
    headers = auth.register()
    session_id = _session(client, headers, jpeg)
    barrier, codes = threading.Barrier(8), []

    def submit() -> None:
        own = app.test_client()
        barrier.wait()
        codes.append(own.post(f"/api/analyze-session/{session_id}", headers=headers).status_code)

    threads = [threading.Thread(target=submit) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert set(codes) <= {200, 202} and len(codes) == 8
    _wait_status(client, headers, session_id, "completed")
    with app.app_context():
        counts = db.session.execute(
            text(
                "SELECT (SELECT count(*) FROM analysis_jobs WHERE session_id = :s),"
                " (SELECT count(*) FROM analysis_requests WHERE session_id = :s),"
                " (SELECT count(*) FROM analysis_logs WHERE session_id = :s),"
                " (SELECT count(*) FROM angle_analysis WHERE session_id = :s)"
            ),
            {"s": session_id},
        ).one()
    assert tuple(counts) == (1, 1, 1, 3)


@pytest.mark.slow
def test_a_waiting_request_is_woken_by_a_job_of_its_process_finishing(app, client, auth, jpeg):
    pause = app.extensions["job_runner"].pauser()
    headers = auth.register()
    session_id = _session(client, headers, jpeg)
    assert client.post(f"/api/analyze-session/{session_id}?async_process=true", headers=headers).status_code == 202
    _wait_status(client, headers, session_id, "completed")
    # The job finished after the pause was made (between two looks): the pause returns instead of lasting an hour.
    waiting = threading.Thread(target=pause, args=(3600,), daemon=True)
    waiting.start()
    waiting.join(timeout=60)
    assert not waiting.is_alive()
