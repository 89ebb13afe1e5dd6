"""Two app servers on one database: separate gunicorn masters (2 workers each), one PostgreSQL and one upload
folder. Each session is analysed exactly once, the quota stays exact across both, and when one server is
killed mid-run the other finishes its jobs once their leases expire."""

import concurrent.futures
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


def test_two_servers_share_the_queue_the_quota_and_each_others_jobs(fresh_db, upload_dir, jpeg):
    url, live_app = fresh_db
    env = {"JOB_LEASE_SECONDS": "3", "JOB_HEARTBEAT_SECONDS": "1", "ANALYSIS_DAILY_QUOTA": str(QUOTA)}
    servers = [LiveServer(url, upload_dir, workers=2, **env) for _ in range(2)]
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
