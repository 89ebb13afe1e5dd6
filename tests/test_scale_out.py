"""Two app servers on one database: separate gunicorn masters (2 workers each), one PostgreSQL and one S3 bucket
(a real S3 endpoint, moto's server; no shared folder: each server has a folder of its own it never uses). Each
session is analysed exactly once, the quota stays exact across both, when one server is killed mid-run the other
finishes its jobs once their leases expire, and a photo uploaded through one is shown by the other."""

import base64
import concurrent.futures
import os
import time
from pathlib import Path

import pytest

from tests.helpers import wait_until
from tests.live import Api, LiveServer, count

pytestmark = pytest.mark.slow
USERS, SESSIONS_PER_USER, QUOTA = 20, 3, 2


def _worker_pids(server: LiveServer) -> set[int]:
    children = Path(f"/proc/{server.process.pid}/task/{server.process.pid}/children").read_text().split()
    return {int(pid) for pid in children}


def test_two_servers_share_the_queue_the_quota_and_each_others_jobs(fresh_db, tmp_path, jpeg, s3_bucket):
    url, live_app = fresh_db
    endpoint, bucket, client = s3_bucket
    env = {
        "JOB_LEASE_SECONDS": "3",
        "JOB_HEARTBEAT_SECONDS": "1",
        "ANALYSIS_DAILY_QUOTA": str(QUOTA),
        "STORAGE_BACKEND": "s3",
        "S3_BUCKET": bucket,
        "S3_ENDPOINT_URL": endpoint,
        "S3_PREFIX": "photos",
        # One master key for both servers, given as each would be in production (not a file they share).
        "BCD_MASTER_KEY": base64.b64encode(os.urandom(32)).decode(),
    }
    servers = [LiveServer(url, str(tmp_path / name), workers=2, **env) for name in ("a", "b")]
    try:
        with concurrent.futures.ThreadPoolExecutor(2) as pool:
            list(pool.map(LiveServer.start, servers))
        apis = [Api(server.url) for server in servers]
        photo = jpeg("coffee")
        users = [apis[i % 2].register(f"scale-{i}@example.com") for i in range(USERS)]
        work = [
            (apis[(u + s) % 2], headers, apis[(u + s + 1) % 2].completed_session(headers, {"front": photo}, "quick"))
            for u, headers in enumerate(users)
            for s in range(SESSIONS_PER_USER)
        ]

        started = time.monotonic()
        with concurrent.futures.ThreadPoolExecutor(USERS) as pool:
            codes = list(
                pool.map(
                    lambda item: (
                        item[0].call("POST", f"/api/analyze-session/{item[2]}?async_process=true", item[1]).status_code
                    ),
                    work,
                )
            )
        assert codes.count(202) == USERS * QUOTA and codes.count(429) == USERS * (SESSIONS_PER_USER - QUOTA), codes

        victims = _worker_pids(servers[0])

        def first_server_is_running_a_job() -> bool:
            running = count(live_app, "SELECT string_agg(locked_by, ' ') FROM analysis_jobs WHERE status = 'running'")
            return any(f":{pid}:" in (running or "") for pid in victims)

        wait_until(first_server_is_running_a_job, timeout=60, interval=0.02, what="a job running on server A")
        servers[0].kill()
        assert count(live_app, "SELECT count(*) FROM analysis_jobs WHERE status <> 'completed'") > 0

        wait_until(
            lambda: count(live_app, "SELECT count(*) FROM analysis_jobs WHERE status = 'completed'") == USERS * QUOTA,
            timeout=180,
            interval=0.2,
            what="server B to finish every job",
        )
        elapsed = time.monotonic() - started
        print(f"\n{USERS * QUOTA} sessions analysed by two servers, one killed mid-run: {elapsed:.1f} s")
        # Server B shows a photo uploaded through server A: the bucket is the one storage.
        _, headers, session_id = work[1]  # made through server A (apis[0])
        shown = apis[1].call("GET", f"/api/image-preview/{session_id}/front", headers).json()["images"][0]
        assert apis[1].call("GET", shown["original_url"]).content == photo
    finally:
        for server in servers:
            server.kill()
    assert count(live_app, "SELECT count(*) FROM session_analysis") == USERS * QUOTA
    assert count(live_app, "SELECT count(*) FROM analysis_requests") == USERS * QUOTA
    assert count(live_app, "SELECT count(*) FROM analysis_logs WHERE status = 'completed'") == USERS * QUOTA
    assert count(live_app, "SELECT count(*) FROM analysis_jobs WHERE status = 'failed'") == 0
    assert (
        count(live_app, "SELECT max(n) FROM (SELECT count(*) AS n FROM analysis_requests GROUP BY user_id) q") == QUOTA
    )
    stored = client.list_objects_v2(Bucket=bucket, Prefix="photos/")["KeyCount"]
    assert stored >= USERS * SESSIONS_PER_USER * 2 and not any(path.is_file() for path in tmp_path.rglob("*"))
