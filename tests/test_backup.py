"""A restore that is proven: back up a live service with analysed sessions (`flask bcd backup`), restore into a
fresh database and storage (`flask bcd restore`), start the service on them, and get the same results, previews
and region maps, and a new session analysed against the restored baseline."""

import os
import subprocess
import sys
import uuid

import numpy as np
import pytest

from tests.conftest import database_uri
from tests.live import ROOT, Api, LiveServer
from tests.photo_data import SCENES, recapture

pytestmark = pytest.mark.slow


def _flask(url: str, upload_dir: str, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "DATABASE_URL": url, "UPLOAD_DIR": upload_dir, "FLASK_APP": "wsgi.py"}
    return subprocess.run(
        [sys.executable, "-m", "flask", "bcd", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )


def _seen(api: Api, headers: dict, session_id: str) -> dict:
    """What a person sees of a session: its result, its photos and its region maps."""
    result = api.call("GET", f"/api/sessions/{session_id}/analysis", headers).json()["data"]
    result.pop("from_cache", None)
    photos = {}
    for angle in SCENES:
        for image in api.call("GET", f"/api/image-preview/{session_id}/{angle}", headers).json()["images"]:
            photos[image["image_id"]] = api.call("GET", image["original_url"]).content
    maps = {
        angle["angle_type"]: api.call(
            "GET", f"/api/sessions/{session_id}/region-map/{angle['angle_type']}", headers
        ).content
        for angle in result["session_analysis"]["per_angle"]
        if angle.get("regions")
    }
    for angle in result["session_analysis"]["per_angle"]:
        angle.pop("region_map_url", None)
    return {"result": result, "photos": photos, "maps": maps}


def test_backup_of_a_live_service_restores_into_a_fresh_database_and_storage(fresh_db, pg_server, tmp_path, jpeg):
    url, _ = fresh_db
    live_dir, restored_dir = str(tmp_path / "live"), str(tmp_path / "restored")
    server = LiveServer(url, live_dir, workers=2).start()
    try:
        api = Api(server.url)
        headers = api.register("backup@example.com")
        rng = np.random.default_rng(4)
        sessions = []
        for degrade in (None, lambda p: recapture(p, rng)):
            photos = {angle: jpeg(name, degrade=degrade) for angle, name in SCENES.items()}
            sessions.append(api.completed_session(headers, photos))
            assert api.call("POST", f"/api/analyze-session/{sessions[-1]}", headers).status_code == 200
        before = {sid: _seen(api, headers, sid) for sid in sessions}
        made = _flask(url, live_dir, "backup", str(tmp_path / "backup"))  # while the service runs
        assert made.returncode == 0, made.stderr
    finally:
        server.stop()

    fresh = database_uri(pg_server, f"bcd_restored_{uuid.uuid4().hex[:8]}")
    restored = _flask(fresh, restored_dir, "restore", str(tmp_path / "backup"))
    assert restored.returncode == 0, restored.stderr
    again = _flask(fresh, restored_dir, "restore", str(tmp_path / "backup"))
    assert again.returncode != 0 and "not empty" in again.stderr

    server = LiveServer(fresh, restored_dir, workers=2).start()
    try:
        api = Api(server.url)
        login = api.call("POST", "/api/auth/login", json={"email": "backup@example.com", "password": "live-pass-123"})
        headers = {"Authorization": f"Bearer {login.json()['data']['token']}"}
        after = {sid: _seen(api, headers, sid) for sid in sessions}
        for sid in sessions:
            assert after[sid]["result"] == before[sid]["result"]
            assert after[sid]["photos"] == before[sid]["photos"] and after[sid]["photos"]
            assert after[sid]["maps"] == before[sid]["maps"]
        assert before[sessions[1]]["maps"]
        newer = api.completed_session(headers, {angle: jpeg(name) for angle, name in SCENES.items()})
        answered = api.call("POST", f"/api/analyze-session/{newer}", headers)
        assert answered.status_code == 200
        assert answered.json()["data"]["baseline_used"]["session_id"] == sessions[0]
    finally:
        server.stop()
