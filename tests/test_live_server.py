"""The real server: gunicorn with several workers on the real database, over HTTP."""

import concurrent.futures

import pytest

from tests.helpers import wait_until
from tests.live import Api, LiveServer
from tests.live import count as _count

pytestmark = pytest.mark.slow


def test_round_trip_over_http(fresh_db, upload_dir, jpeg):
    url, _ = fresh_db
    server = LiveServer(url, upload_dir, workers=2).start()
    try:
        api = Api(server.url)
        assert api.call("GET", "/ready").json()["checks"]["database"] is True
        api.call("POST", "/api/auth/register", json={"email": "rt@example.com", "password": "live-pass-123"})
        login = api.call("POST", "/api/auth/login", json={"email": "rt@example.com", "password": "live-pass-123"})
        headers = {"Authorization": f"Bearer {login.json()['data']['token']}"}
        sid = api.completed_session(
            headers, {"front": jpeg("astronaut"), "left": jpeg("coffee"), "right": jpeg("chelsea")}
        )
        info = api.call("GET", f"/api/session-info/{sid}", headers).json()
        assert info["session_id"] == sid and info["is_first_session"] is True
        preview = api.call("GET", f"/api/image-preview/{sid}/front", headers).json()
        image = api.call("GET", preview["images"][0]["preview_url"])  # no bearer header
        assert image.status_code == 200 and image.content[:2] == b"\xff\xd8"
        queued = api.call("POST", f"/api/analyze-session/{sid}?async_process=true", headers)
        assert queued.status_code == 202 and queued.json()["data"]["status"] == "processing"
        assert api.wait_status(headers, sid, {"completed", "failed"})["status"] == "completed"
        assert api.call("DELETE", f"/api/delete-session/{sid}", headers).json() == {"success": True}
        assert api.call("GET", f"/api/sessions/{sid}", headers).status_code == 404
    finally:
        server.stop()


def test_sigkill_mid_analysis_loses_no_job_and_duplicates_nothing(fresh_db, upload_dir, jpeg):
    url, live_app = fresh_db
    env = {"JOB_LEASE_SECONDS": "3", "JOB_HEARTBEAT_SECONDS": "1", "JOB_WORKERS": "1"}
    server = LiveServer(url, upload_dir, workers=2, **env).start()
    photos = {"front": jpeg("astronaut"), "left": jpeg("coffee"), "right": jpeg("chelsea")}
    api = Api(server.url)
    headers = api.register("crash@example.com")
    sessions = [api.completed_session(headers, photos) for _ in range(6)]
    try:
        for sid in sessions:
            assert api.call("POST", f"/api/analyze-session/{sid}?async_process=true", headers).status_code == 202
        api.wait_status(headers, sessions[0], {"processing"})
        wait_until(
            lambda: _count(live_app, "SELECT count(*) FROM analysis_jobs WHERE status = 'running'"),
            timeout=60,
            interval=0.01,
            what="a running job",
        )
    finally:
        server.kill()
    unfinished = _count(live_app, "SELECT count(*) FROM analysis_jobs WHERE status <> 'completed'")
    assert unfinished > 0, "the crash came too late to test anything"

    server = LiveServer(url, upload_dir, workers=2, **env).start()
    try:
        api = Api(server.url)
        for sid in sessions:
            assert api.wait_status(headers, sid, {"completed", "failed"}, timeout=180)["status"] == "completed"
    finally:
        server.stop()
    assert _count(live_app, "SELECT count(*) FROM session_analysis") == 6
    assert _count(live_app, "SELECT count(*) FROM angle_analysis") == 18
    assert _count(live_app, "SELECT count(DISTINCT session_id) FROM angle_analysis") == 6
    assert _count(live_app, "SELECT count(*) FROM analysis_logs WHERE status = 'completed'") == 6


def test_quota_is_exact_across_four_workers(fresh_db, upload_dir, jpeg):
    url, live_app = fresh_db
    server = LiveServer(url, upload_dir, workers=4).start()
    try:
        api = Api(server.url)
        headers = api.register("quota@example.com")
        photo = jpeg("coffee")
        sessions = [api.completed_session(headers, {"front": photo}, "quick") for _ in range(30)]

        def submit(sid: str):
            return Api(server.url).call("POST", f"/api/analyze-session/{sid}?async_process=true", headers)

        with concurrent.futures.ThreadPoolExecutor(max_workers=30) as pool:
            responses = list(pool.map(submit, sessions))
        codes = [r.status_code for r in responses]
        assert codes.count(202) == 20 and codes.count(429) == 10, codes
        refused = next(r for r in responses if r.status_code == 429)
        assert int(refused.headers["Retry-After"]) > 0
        assert refused.json()["error"]["code"] == "quota_exceeded"
        accepted = next(sid for sid, r in zip(sessions, responses, strict=True) if r.status_code == 202)
        api.wait_status(headers, accepted, {"completed"})
        # Re-reading a stored result does not count against the quota.
        assert api.call("POST", f"/api/analyze-session/{accepted}", headers).status_code == 200
    finally:
        server.stop()
    assert _count(live_app, "SELECT count(*) FROM analysis_requests") == 20


def test_sigterm_stops_claiming_and_leaves_no_job_running(fresh_db, upload_dir, jpeg):
    url, live_app = fresh_db
    env = {"JOB_WORKERS": "1"}
    server = LiveServer(url, upload_dir, workers=2, **env).start()
    api = Api(server.url)
    headers = api.register("term@example.com")
    photo = jpeg("coffee")
    sessions = [api.completed_session(headers, {"front": photo}, "quick") for _ in range(8)]
    try:
        for sid in sessions:
            assert api.call("POST", f"/api/analyze-session/{sid}?async_process=true", headers).status_code == 202
        wait_until(
            lambda: _count(live_app, "SELECT count(*) FROM analysis_jobs WHERE status <> 'queued'"),
            timeout=60,
            interval=0.01,
            what="a claimed job",
        )
    finally:
        server.stop()  # SIGTERM: gunicorn's graceful shutdown and our worker_exit hook
    assert _count(live_app, "SELECT count(*) FROM analysis_jobs WHERE status = 'running' OR locked_by IS NOT NULL") == 0
    assert _count(live_app, "SELECT count(*) FROM analysis_jobs WHERE status = 'queued'") > 0, "kept claiming"
    assert _count(live_app, "SELECT count(*) FROM analysis_jobs WHERE status = 'failed'") == 0

    server = LiveServer(url, upload_dir, workers=2, **env).start()
    try:
        api = Api(server.url)
        for sid in sessions:
            assert api.wait_status(headers, sid, {"completed", "failed"})["status"] == "completed"
    finally:
        server.stop()
    assert _count(live_app, "SELECT count(*) FROM analysis_logs WHERE status = 'completed'") == 8
    assert _count(live_app, "SELECT max(attempts) FROM analysis_jobs") == 1


def test_login_limits_are_exact_across_four_workers(fresh_db, upload_dir):
    url, _ = fresh_db
    server = LiveServer(url, upload_dir, workers=4).start()
    try:
        api = Api(server.url)
        api.register("brute@example.com")

        def guess(i: int) -> int:
            body = {"email": "brute@example.com", "password": f"wrong-guess-{i}"}
            return Api(server.url).call("POST", "/api/auth/login", json=body).status_code

        with concurrent.futures.ThreadPoolExecutor(max_workers=20) as pool:
            codes = list(pool.map(guess, range(100)))
        print(f"\n100 wrong passwords for one account, 4 workers: {codes.count(401)} x 401, then 429")
        assert codes.count(401) == 5 and codes.count(429) == 95, codes
        right = api.call("POST", "/api/auth/login", json={"email": "brute@example.com", "password": "live-pass-123"})
        assert right.status_code == 429 and int(right.headers["Retry-After"]) > 0

        # The address has 5 failures (the refused attempts are none): 15 more wrong logins for other emails
        # get their 401, no more, however the workers interleave.
        def spray(i: int) -> int:
            body = {"email": f"someone-{i}@example.com", "password": "wrong-guess-0"}
            return Api(server.url).call("POST", "/api/auth/login", json=body).status_code

        with concurrent.futures.ThreadPoolExecutor(max_workers=20) as pool:
            codes = list(pool.map(spray, range(40)))
        assert codes.count(401) == 15 and codes.count(429) == 25, codes
    finally:
        server.stop()
