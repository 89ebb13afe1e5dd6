"""A service that runs for days: gunicorn with the deploy defaults under a steady mix of the product's traffic at
about half of its measured capacity, printing per window each worker's RSS, the service's PSS, p50/p99 per route,
answers of 5xx, database connections and open file descriptors, then the verdict against the targets.

A visit is what a person does in the app: log in, start a session, upload six phone photos, complete it, analyse
it, read the result, two previews, a region map, the history, compare with the previous session, the thumbnails,
and delete her oldest session past KEEP (so the disk stays flat, as it does for people who tidy up).

Run: .venv/bin/python bench/soak.py [--minutes 30] [--window 5] [--load 0.5]
"""

import argparse
import collections
import concurrent.futures
import sys
import threading
import time
from pathlib import Path

import cv2
import numpy as np
import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.service_bench import ANGLES, NAMES, memory, start_service
from tests import photo_data
from tests.live import Api, LiveServer

USERS, KEEP = 12, 6
# Phone photos of 3000 x 2250 (7 MP): a common camera setting, and a disk that stays small over hours.
PHOTO_SIZE = (3000, 2250)
CAPACITY_CLIENTS = 4
TARGET_RSS_GROWTH_MB, TARGET_P99_RATIO = 20, 1.5


class Recorder:
    """Latencies and status codes per route, per window, from every client thread."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.samples: dict[str, list[float]] = collections.defaultdict(list)
        self.errors = collections.Counter()

    def call(self, api: Api, route: str, method: str, path: str, headers: dict | None = None, **kwargs):
        """One timed request, filed under `route`."""
        started = time.perf_counter()
        response = api.call(method, path, headers, **kwargs)
        elapsed = (time.perf_counter() - started) * 1000
        with self.lock:
            self.samples[route].append(elapsed)
            if response.status_code >= 500:
                self.errors["5xx"] += 1
            elif response.status_code >= 400:
                self.errors[f"{route} {response.status_code}"] += 1
        return response

    def take(self) -> tuple[dict[str, list[float]], collections.Counter]:
        """This window's samples and errors; the next window starts empty."""
        with self.lock:
            samples, errors = self.samples, self.errors
            self.samples, self.errors = collections.defaultdict(list), collections.Counter()
        return samples, errors


def phone_sets(rng: np.random.Generator) -> list[dict[str, bytes]]:
    """Three re-captures of six real scenes as phone JPEGs."""
    photos = photo_data.real_photos()
    big = {name: cv2.resize(photos[name], PHOTO_SIZE, interpolation=cv2.INTER_CUBIC) for name in NAMES}
    return [
        {
            angle: photo_data.encode(photo_data.recapture(big[name], rng), quality=90)
            for angle, name in zip(ANGLES, NAMES, strict=True)
        }
        for _ in range(3)
    ]


class Person:
    """One account and the sessions she keeps."""

    def __init__(self, api: Api, index: int) -> None:
        self.email = f"soak-{index}@example.com"
        api.register(self.email)
        self.sessions: list[str] = []
        self.lock = threading.Lock()


def visit(server: LiveServer, person: Person, photos: dict[str, bytes], rec: Recorder) -> None:
    """One person's visit, every request timed."""
    api = Api(server.url)
    with person.lock:
        body = {"email": person.email, "password": "live-pass-123"}
        token = rec.call(api, "login", "POST", "/api/auth/login", json=body).json()["data"]["token"]
        headers = {"Authorization": f"Bearer {token}"}
        rec.call(api, "me", "GET", "/api/auth/me", headers)
        sid = rec.call(api, "create", "POST", "/api/sessions", headers, json={"session_type": "full"}).json()["data"][
            "id"
        ]
        for angle, data in photos.items():
            files = {"file": ("p.jpg", data)}
            rec.call(api, "upload", "POST", f"/api/sessions/{sid}/images", headers, files=files, data={"angle": angle})
        rec.call(api, "complete", "POST", f"/api/sessions/{sid}/complete", headers)
        rec.call(api, "analyze", "POST", f"/api/analyze-session/{sid}", headers)
        rec.call(api, "result", "GET", f"/api/sessions/{sid}/analysis", headers)
        shown = rec.call(api, "previews", "GET", f"/api/image-preview/{sid}/front", headers).json()["images"]
        for image in shown[:2]:
            rec.call(api, "preview file", "GET", image["preview_url"])
        rec.call(api, "region map", "GET", f"/api/sessions/{sid}/region-map/front", headers)
        rec.call(api, "history", "GET", "/api/sessions", headers)
        if person.sessions:
            rec.call(api, "compare", "POST", f"/api/compare-sessions/{sid}/{person.sessions[-1]}", headers)
        rec.call(api, "thumbnails", "GET", f"/api/session-thumbnails/{sid}", headers)
        person.sessions.append(sid)
        # The first session is the baseline: keep it, tidy up the oldest of the others.
        if len(person.sessions) > KEEP:
            old = person.sessions.pop(1)
            rec.call(api, "delete", "DELETE", f"/api/delete-session/{old}", headers)
        rec.call(api, "logout", "POST", "/api/auth/logout", headers)


def snapshot(server: LiveServer, url: str) -> dict:
    """Memory, descriptors and database connections now."""
    mem = memory(server)
    master = server.process.pid
    fds = {pid: len(list(Path(f"/proc/{pid}/fd").iterdir())) for pid in mem}
    with psycopg.connect(url.replace("postgresql+psycopg", "postgresql")) as conn:
        connections = conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
        ).fetchone()[0]
    workers = {pid: rss for pid, (_, rss, _) in mem.items() if pid != master}
    return {"rss": workers, "pss": sum(p for p, _, _ in mem.values()), "fds": sum(fds.values()), "db": connections}


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile, or nan with no values."""
    return float(np.percentile(values, q)) if values else float("nan")


def run_visits(server, people, sets, rec, *, rate_per_min: float | None, seconds: float, clients: int) -> int:
    """Visits for `seconds`: back to back on `clients` threads (rate None), or started at a steady rate."""
    done = 0
    stop = time.monotonic() + seconds
    counter = iter(range(10**9))
    lock = threading.Lock()

    def one() -> None:
        nonlocal done
        i = next(counter)
        visit(server, people[i % len(people)], sets[i % len(sets)], rec)
        with lock:
            done += 1

    with concurrent.futures.ThreadPoolExecutor(clients) as pool:
        if rate_per_min is None:

            def loop() -> None:
                while time.monotonic() < stop:
                    one()

            list(pool.map(lambda _: loop(), range(clients)))
        else:
            gap = 60 / rate_per_min
            start = time.monotonic()
            futures = []
            k = 0
            while (due := start + k * gap) < stop:
                time.sleep(max(0.0, due - time.monotonic()))
                futures.append(pool.submit(one))
                k += 1
            for future in futures:
                future.result()
    return done


def main() -> None:
    """Measure capacity, then soak at a share of it, one row per window."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--minutes", type=float, default=30)
    parser.add_argument("--window", type=float, default=5, help="minutes per row")
    parser.add_argument("--load", type=float, default=0.5, help="share of the measured capacity")
    parser.add_argument("--capacity-seconds", type=float, default=90)
    args = parser.parse_args()

    server, pg, url = start_service("soak", ANALYSIS_DAILY_QUOTA="1000000")
    rows = []
    try:
        api = Api(server.url)
        people = [Person(api, i) for i in range(USERS)]
        sets = phone_sets(np.random.default_rng(11))
        rec = Recorder()
        visits = run_visits(
            server, people, sets, rec, rate_per_min=None, seconds=args.capacity_seconds, clients=CAPACITY_CLIENTS
        )
        capacity = visits / args.capacity_seconds * 60
        rate = capacity * args.load
        rec.take()
        print(
            f"capacity: {capacity:.1f} visits/min ({CAPACITY_CLIENTS} clients back to back, {visits} visits; a visit = 6 uploads + 1 analysis + 13 reads)"
        )
        print(
            f"soak: {rate:.1f} visits/min ({args.load:.0%} of capacity) for {args.minutes:.0f} min, a row per {args.window:.0f} min"
        )
        windows = max(1, round(args.minutes / args.window))
        for _ in range(windows):
            run_visits(server, people, sets, rec, rate_per_min=rate, seconds=args.window * 60, clients=8)
            samples, errors = rec.take()
            rows.append({**snapshot(server, url), "samples": samples, "errors": errors})
            print_row(len(rows), rows[-1], args.window)
    finally:
        server.stop()
        pg.cleanup()
    verdict(rows)


def print_row(index: int, row: dict, window: float) -> None:
    """One window: memory, descriptors, connections, errors, latency per route."""
    rss = ", ".join(f"{mb:.0f}" for mb in row["rss"].values())
    every = [v for values in row["samples"].values() for v in values]
    print(
        f"[{index * window:4.0f} min] worker RSS MB {rss} | PSS {row['pss']:.0f} MB | fds {row['fds']} | db conns {row['db']} | "
        f"5xx {row['errors']['5xx']} | other 4xx {sum(n for k, n in row['errors'].items() if k != '5xx')} | "
        f"all p50/p99 {percentile(every, 50):.0f}/{percentile(every, 99):.0f} ms"
    )
    print(
        "      "
        + "; ".join(
            f"{route} {percentile(v, 50):.0f}/{percentile(v, 99):.0f}" for route, v in sorted(row["samples"].items())
        )
    )


def verdict(rows: list[dict]) -> None:
    """The targets, after the first window (warm-up)."""
    if len(rows) < 2:
        print("verdict: needs two windows or more (the first is warm-up)")
        return
    first, last = rows[0], rows[-1]
    growth = {pid: last["rss"][pid] - first["rss"][pid] for pid in last["rss"] if pid in first["rss"]}
    fives = sum(row["errors"]["5xx"] for row in rows)

    def p99(row):
        return percentile([v for values in row["samples"].values() for v in values], 99)

    ratio = p99(last) / p99(first)
    print(
        f"verdict after warm-up: worker RSS growth {', '.join(f'{g:+.0f}' for g in growth.values())} MB "
        f"(target <= {TARGET_RSS_GROWTH_MB}; workers restarted: {len(growth) != len(last['rss'])}); 5xx {fives} (target 0); "
        f"p99 last/first window {ratio:.2f} (target <= {TARGET_P99_RATIO}); "
        f"db conns {[row['db'] for row in rows]}; fds {[row['fds'] for row in rows]}"
    )


if __name__ == "__main__":
    main()
