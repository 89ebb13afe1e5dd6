"""The probes under an upload storm: /health and /ready, asked every 100 ms, while 8 people upload 12 MP photos at
once at a phone's upload speed to gunicorn alone (the deploy defaults: 2 workers) with their baselines in place (so every upload is posed,
and its model output and comparison run in the background). Each configuration runs on a service of its own, side
by side in one run: the code as this round found it (a git worktree of --before: analysis and background threads at
nice 19, display copies at SCHED_IDLE), this code with only the OS priorities put back (JOB_NICE=19, no yield),
and this code as deployed (no OS priority for threads that share a worker's interpreter lock; background work waits
for the worker's requests instead).

Run: .venv/bin/python bench/probe_bench.py [--seconds 30] [--before 079948e]
"""

import argparse
import concurrent.futures
import sys
import threading
import time
from pathlib import Path

import numpy as np
from urllib3 import encode_multipart_formdata

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.service_bench import phone_photos, start_service, worktree
from tests.live import Api

UPLOADERS = 8
PROBE_INTERVAL = 0.1
# A phone's upload over home Wi-Fi (bytes a second): gunicorn alone reads each body in a worker thread meanwhile.
PHONE_UPLINK = 2_000_000
CHUNK = 64 * 1024
# The code as this round found it.
BEFORE = "079948e"


def _slowly(body: bytes):
    """A request body sent at PHONE_UPLINK."""
    for start in range(0, len(body), CHUNK):
        yield body[start : start + CHUNK]
        time.sleep(CHUNK / PHONE_UPLINK)


def _storm(api: Api, users: list[dict], sessions: list[dict[str, bytes]], until: float) -> int:
    """Each user uploads 12 MP photos back to back into a session of her own until `until`: how many landed."""

    def person(index: int) -> int:
        headers = users[index]
        sid = api.call("POST", "/api/sessions", headers, json={"session_type": "full"}).json()["data"]["id"]
        photos = list(sessions[index % len(sessions)].items())
        landed = 0
        while time.monotonic() < until:
            angle, data = photos[landed % 3]
            body, content_type = encode_multipart_formdata({"angle": angle, "file": ("p.jpg", data, "image/jpeg")})
            response = api.call(
                "POST", f"/api/sessions/{sid}/images", {**headers, "Content-Type": content_type}, data=_slowly(body)
            )
            landed += response.status_code == 201
            if landed and landed % 25 == 0:
                sid = api.call("POST", "/api/sessions", headers, json={"session_type": "full"}).json()["data"]["id"]
        return landed

    with concurrent.futures.ThreadPoolExecutor(UPLOADERS) as pool:
        return sum(pool.map(person, range(UPLOADERS)))


def _probe(base: str, path: str, until: float, into: list[float]) -> None:
    prober = Api(base)
    while time.monotonic() < until:
        started = time.perf_counter()
        prober.call("GET", path)
        into.append(time.perf_counter() - started)
        time.sleep(PROBE_INTERVAL)


def run(name: str, env: dict, sessions: list[dict[str, bytes]], seconds: float, root: Path | None = None) -> str:
    """One configuration's probe latencies under the storm."""
    server, pg, _ = start_service("probes", root, **env)
    try:
        api = Api(server.url)
        users = [api.register(f"storm-{i}@example.com") for i in range(UPLOADERS)]
        for index, headers in enumerate(users):
            sid = api.completed_session(headers, dict(list(sessions[index % len(sessions)].items())[:3]))
            assert api.call("POST", f"/api/analyze-session/{sid}", headers).status_code == 200
        # The storm meets fresh workers, as after a deploy or a worker's restart.
        server.stop()
        server.start()
        until = time.monotonic() + seconds
        timings: dict[str, list[float]] = {"/health": [], "/ready": []}
        probes = [threading.Thread(target=_probe, args=(server.url, p, until, t)) for p, t in timings.items()]
        for probe in probes:
            probe.start()
        landed = _storm(api, users, sessions, until)
        for probe in probes:
            probe.join()
    finally:
        server.stop()
        pg.cleanup()
    parts = [f"{name}: {landed / seconds * 60:.0f} uploads/min"]
    for path, values in timings.items():
        ms = np.array(values) * 1000
        parts.append(
            f"{path} p50 {np.percentile(ms, 50):.0f} ms, p99 {np.percentile(ms, 99):.0f} ms, max {ms.max():.0f} ms"
        )
    return "; ".join(parts)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--before", default=BEFORE)
    args = parser.parse_args()
    sessions = phone_photos(np.random.default_rng(7))
    with worktree(args.before) as before:
        lines = [
            run(f"before ({args.before})", {}, sessions, args.seconds, root=before),
            run("now, OS priorities only", {"JOB_NICE": "19", "BACKGROUND_YIELD_SECONDS": "0"}, sessions, args.seconds),
            run("now", {}, sessions, args.seconds),
        ]
    print(
        f"Probes during an upload storm ({UPLOADERS} people, 12 MP, gunicorn alone, 2 workers, {args.seconds:.0f} s):"
    )
    for line in lines:
        print("  " + line)


if __name__ == "__main__":
    main()
