"""What the attack and fault probes found once a baseline exists: a strip or a thumbnail uploaded (or kept as the
baseline) passes every path with no pose and nothing left behind; a background step that raises is contained; a
login that could not be checked costs no one her sign-in; a worker killed mid-upload leaves no row, object or
temporary file."""

import logging
import os
import signal
import threading
import time
import uuid
from pathlib import Path

import numpy as np
import pytest
import requests
from sqlalchemy import text

from bcd_app.db import db
from bcd_app.services import regions
from bcd_app.services.login_limits import ATTEMPTS as LOGIN_ATTEMPTS
from bcd_app.services.login_limits import RESERVATION as LOGIN_RESERVATION
from bcd_app.services.login_limits import key as _throttle_key
from bcd_app.store.files import TEMPORARY_PREFIX, working_key
from bcd_app.vision.preprocessing import fit_long_side
from bcd_app.vision.regions import GRID, AnglePhoto
from tests.helpers import completed_session, create_session, data_of, upload, uploads_settled, wait_until
from tests.live import Api, LiveServer
from tests.security.test_fuzz_pixels import encoded

SCENES = {"front": "astronaut", "left": "coffee", "right": "chelsea"}
STRIPS = {
    "one pixel": (1, 1, "black", "RGB", "PNG"),
    "one row": (1, 10000, "grey", "RGB", "PNG"),
    "one column": (10000, 1, "grey", "RGB", "PNG"),
}


def _temporary_files(folder: str) -> list[Path]:
    return list(Path(folder).rglob(f"{TEMPORARY_PREFIX}*"))


def _everything_a_person_sees(client, headers: dict, session_id: str) -> None:
    """The result, each angle's region map and preview, the capture guide and the PDF all answer 200."""
    result = data_of(client.get(f"/api/sessions/{session_id}/analysis", headers=headers))
    for angle in result["session_analysis"]["per_angle"]:
        name = angle["angle_type"]
        if angle.get("regions"):
            assert client.get(f"/api/sessions/{session_id}/region-map/{name}", headers=headers).status_code == 200
        preview = client.get(f"/api/image-preview/{session_id}/{name}", headers=headers)
        assert preview.status_code == 200, preview.get_json()
        for image in preview.get_json()["images"]:
            assert client.get(image["original_url"].replace("http://localhost", "")).status_code == 200
    assert client.get("/api/capture-guide/front", headers=headers).status_code == 200
    assert client.get(f"/api/sessions/{session_id}/report.pdf", headers=headers).status_code == 200


def _analysed(client, headers: dict, photos: dict[str, bytes]) -> str:
    session_id = completed_session(client, headers, photos)
    response = client.post(f"/api/analyze-session/{session_id}", headers=headers)
    assert response.status_code == 200 and "session_analysis" in data_of(response), response.get_json()
    return session_id


def _no_background_failure(app) -> None:
    with app.app_context():
        marked = db.session.scalar(text("SELECT count(*) FROM images WHERE background_failure IS NOT NULL"))
    assert marked == 0


@pytest.mark.slow
def test_a_strip_or_a_pixel_uploaded_onto_a_baseline_is_201_without_a_pose(app, client, auth, jpeg):
    headers = auth.register()
    _analysed(client, headers, {angle: jpeg(name) for angle, name in SCENES.items()})
    session_id = create_session(client, headers)
    for name, case in STRIPS.items():
        response = upload(client, headers, session_id, encoded(*case), "front", filename=f"{name}.png")
        assert response.status_code == 201, (name, response.get_json())
        assert data_of(response)["pose"] is None
    for angle in ("left", "right"):
        assert upload(client, headers, session_id, jpeg(SCENES[angle]), angle).status_code == 201
    uploads_settled(app)
    assert not _temporary_files(app.config["UPLOAD_DIR"])
    _no_background_failure(app)
    assert client.post(f"/api/sessions/{session_id}/complete", headers=headers).status_code == 200
    response = client.post(f"/api/analyze-session/{session_id}", headers=headers)
    assert response.status_code == 200 and "session_analysis" in data_of(response), response.get_json()
    front = next(a for a in data_of(response)["session_analysis"]["per_angle"] if a["angle_type"] == "front")
    assert front["alignment"]["ok"] is False and front["alignment"]["method"] == "too_small"
    _everything_a_person_sees(client, headers, session_id)


@pytest.mark.slow
def test_a_baseline_of_thumbnails_poses_nothing_and_every_later_path_answers(app, client, auth, jpeg):
    headers = auth.register()
    tiny = {angle: encoded(3, 5, "noise", "RGB", "PNG", seed=i) for i, angle in enumerate(SCENES)}
    _analysed(client, headers, tiny)
    session_id = create_session(client, headers)
    for angle, name in SCENES.items():
        response = upload(client, headers, session_id, jpeg(name), angle)
        assert response.status_code == 201 and data_of(response)["pose"] is None, response.get_json()
    uploads_settled(app)
    _no_background_failure(app)
    assert client.post(f"/api/sessions/{session_id}/complete", headers=headers).status_code == 200
    response = client.post(f"/api/analyze-session/{session_id}", headers=headers)
    assert response.status_code == 200 and "session_analysis" in data_of(response), response.get_json()
    _everything_a_person_sees(client, headers, session_id)


def test_a_comparison_that_raises_leaves_its_view_unregistered(photos, caplog):
    today = AnglePhoto(fit_long_side(photos["astronaut"]))
    # A reference the comparison cannot take (one grey channel, not RGB): found in no upload, standing for any fault.
    broken = regions.Reference(fit_long_side(photos["camera"])[:, :, 0], None, None)
    with caplog.at_level(logging.WARNING, logger="bcd_app.services.regions"):
        compared = regions._compared_or_unregistered(today, broken)
    assert compared.alignment.ok is False and compared.alignment.method == "failed"
    assert len(compared.cells) == GRID * GRID and all(cell.coverage == 0 for cell in compared.cells)
    assert compared.vector is None
    assert [r.message for r in caplog.records] == ["comparison failed; view left unregistered"]


def test_a_background_step_that_raises_is_logged_once_and_marks_the_photo(app, client, auth, jpeg, caplog):
    headers = auth.register()
    _analysed(client, headers, {angle: jpeg(name) for angle, name in SCENES.items()})
    session_id = create_session(client, headers)
    for angle, name in SCENES.items():
        image_id = data_of(upload(client, headers, session_id, jpeg(name), angle))["id"]
    uploads_settled(app)

    def broken(_image_id: uuid.UUID) -> bool:
        raise ValueError("a fault no photo of ours has caused")

    runner = app.extensions["job_runner"]
    with app.app_context(), caplog.at_level(logging.WARNING, logger="bcd_app.jobs.runner"):
        runner._step("comparison", broken, None, uuid.UUID(image_id))
        marked = db.session.scalar(
            text("SELECT background_failure FROM images WHERE id = :id"), {"id": uuid.UUID(image_id)}
        )
    failures = [r for r in caplog.records if r.message == "background step failed"]
    assert len(failures) == 1 and failures[0].step == "comparison" and failures[0].error_type == "ValueError"
    assert marked == "comparison"
    assert client.post(f"/api/sessions/{session_id}/complete", headers=headers).status_code == 200
    response = client.post(f"/api/analyze-session/{session_id}", headers=headers)
    assert response.status_code == 200 and "session_analysis" in data_of(response), response.get_json()


def _reserve(app, email: str, address: str, *, pending: bool, age: float) -> None:
    """Failures of an account and an address as logins left them: settled, or pending (never checked)."""
    secret = app.config["SECRET_KEY"]
    with app.app_context():
        for key in (_throttle_key(secret, "account", email), _throttle_key(secret, "address", address)):
            db.session.execute(
                text(
                    "INSERT INTO login_failures (key, at, pending) "
                    "SELECT :key, now() - make_interval(secs => :age), :pending FROM generate_series(1, :n)"
                ),
                {"key": key, "age": age, "pending": pending, "n": LOGIN_ATTEMPTS["account"]},
            )
        db.session.commit()


def test_logins_that_were_never_checked_stop_counting_after_their_lease(app, client, auth):
    email, password = "lease@example.com", "correct-horse-9"
    auth.register(email, password)
    lease = LOGIN_RESERVATION.total_seconds()
    _reserve(app, email, "127.0.0.1", pending=True, age=lease + 1)
    assert client.post("/api/auth/login", json={"email": email, "password": password}).status_code == 200
    # Pending ones still within their lease count: a login being checked right now is not given away.
    _reserve(app, email, "127.0.0.1", pending=True, age=1)
    assert client.post("/api/auth/login", json={"email": email, "password": password}).status_code == 429


def test_checked_failures_still_lock_the_account(app, client, auth):
    email, password = "settled@example.com", "correct-horse-9"
    auth.register(email, password)
    _reserve(app, email, "127.0.0.1", pending=False, age=LOGIN_RESERVATION.total_seconds() + 1)
    response = client.post("/api/auth/login", json={"email": email, "password": password})
    assert response.status_code == 429 and int(response.headers["Retry-After"]) > 0


def _workers(server: LiveServer) -> list[int]:
    master = server.process.pid
    return [int(pid) for pid in Path(f"/proc/{master}/task/{master}/children").read_text().split()]


@pytest.mark.slow
def test_a_worker_killed_mid_upload_leaves_no_row_object_or_temporary_file(fresh_db, tmp_path):
    url, live_app = fresh_db
    folder = tmp_path / "uploads"
    server = LiveServer(url, str(folder), workers=1, TEMPORARY_FILE_MAX_AGE_SECONDS="3600").start()
    try:
        api = Api(server.url)
        headers = api.register("killed-upload@example.com")
        sid = api.call("POST", "/api/sessions", headers, json={"session_type": "full"}).json()["data"]["id"]
        big = encoded(3000, 4000, "photo", "RGB", "PNG")
        # What an earlier killed write left: one older than the sweep's age, and one a live write may still finish.
        stale, young = folder / "stale" / f"{TEMPORARY_PREFIX}old", folder / "stale" / f"{TEMPORARY_PREFIX}young"
        stale.parent.mkdir(parents=True, mode=0o700)
        stale.write_bytes(b"half a photo")
        young.write_bytes(b"half a photo")
        os.utime(stale, (time.time() - 7200, time.time() - 7200))
        answers: list[int] = []

        def uploads() -> None:
            for _ in range(4):
                try:
                    response = api.call(
                        "POST", f"/api/sessions/{sid}/images", headers, files={"file": ("p.png", big)},
                        data={"angle": "front"},
                    )  # fmt: skip
                    answers.append(response.status_code)
                except requests.RequestException:  # the connection of the killed worker breaks
                    answers.append(0)

        sending = threading.Thread(target=uploads)
        sending.start()
        wait_until(lambda: answers, timeout=60, what="the first upload to land")
        time.sleep(0.3)
        for pid in _workers(server):
            os.kill(pid, signal.SIGKILL)
        sending.join(120)
        wait_until(lambda: not stale.exists(), timeout=60, what="the new worker to sweep the stale write")
        assert young.exists()
        young.unlink()
        wait_until(lambda: api.call("GET", "/ready").status_code == 200, timeout=60, what="the new worker")
    finally:
        server.stop()
    assert 0 in answers or 201 in answers
    with live_app.app_context():
        rows = db.session.execute(text("SELECT storage_key FROM images")).scalars().all()
        db.session.remove()
    kept = {str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file()}
    expected = {key for row in rows for key in (row, working_key(row))}
    assert expected <= kept, "a row lost its files"
    assert {k for k in kept if not k.endswith(".display.jpg")} == expected, "an object outlived its row"
    assert not _temporary_files(str(folder))
    assert np.all([answer in (0, 201) for answer in answers]), answers
