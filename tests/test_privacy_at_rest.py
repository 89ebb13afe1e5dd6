"""Intimate photos private at rest: every stored copy sealed with its owner's key (in a folder and in a real S3
endpoint), blobs that do not open under another name, master-key rotation, crypto-shredding erasure, storage
behind one interface, display-size previews, and a production that refuses to start without a master key."""

import io
import json
import os
import shutil
import subprocess
import sys
import uuid
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from sqlalchemy import text

from bcd_app import create_app
from bcd_app.db import db
from bcd_app.store import keys
from bcd_app.store.files import LocalStorage
from bcd_app.store.s3 import S3Storage
from tests.conftest import make_config
from tests.helpers import completed_session, create_session, data_of, upload, uploads_settled
from tests.photo_data import SCENES, recapture

# What would show a photo: file signatures at a blob's start, and markers that cannot occur by chance anywhere.
STARTS = (b"\xff\xd8\xff", b"\x89PNG", b"\x93NUMPY", b"RIFF")
ANYWHERE = (b"JFIF\x00", b"Exif\x00\x00", b"\x89PNG\r\n\x1a\n", b"\x93NUMPY", b"IHDR")
RUN = 32  # every 64-byte run of an uploaded file holds an aligned 32-byte piece of it
IMAGE_COLUMNS = (
    "SELECT cell_vectors FROM photo_comparisons WHERE cell_vectors IS NOT NULL",
    "SELECT cells FROM angle_embeddings WHERE cells IS NOT NULL",
    "SELECT region_copy FROM angle_embeddings WHERE region_copy IS NOT NULL",
)


def _pieces(uploaded: list[bytes]) -> set[bytes]:
    return {data[i : i + RUN] for data in uploaded for i in range(0, len(data) - RUN + 1, RUN)}


def readable(blob: bytes, pieces: set[bytes]) -> str | None:
    """Why a stored blob would show a photo: a signature, a marker, or a 64-byte run of an uploaded file."""
    if blob.startswith(STARTS):
        return "starts with an image signature"
    if found := next((marker for marker in ANYWHERE if marker in blob), None):
        return f"holds {found!r}"
    if any(blob[i : i + RUN] in pieces for i in range(len(blob) - RUN + 1)):
        return "holds a run of an uploaded file"
    return None


def _bucket_objects(client, bucket: str) -> dict[str, bytes]:
    found = {}
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        for item in page.get("Contents", []):
            found[item["Key"]] = client.get_object(Bucket=bucket, Key=item["Key"])["Body"].read()
    return found


def _folder_objects(root: str) -> dict[str, bytes]:
    return {str(path.relative_to(root)): path.read_bytes() for path in Path(root).rglob("*") if path.is_file()}


@pytest.fixture()
def s3_app(app, migrated, tmp_path, s3_bucket):
    """An app on the test database whose storage is a bucket of a real S3 endpoint (no upload folder in use). The
    folder app's pool stops first: it would claim this app's jobs and not find their photos."""
    app.extensions["job_runner"].shutdown(timeout=30)
    endpoint, bucket, client = s3_bucket
    config = make_config(
        migrated, str(tmp_path / "unused"), STORAGE_BACKEND="s3", S3_BUCKET=bucket, S3_ENDPOINT_URL=endpoint
    )
    application = create_app(config)
    application.extensions["job_runner"].start()
    yield application, bucket, client
    application.extensions["job_runner"].shutdown(timeout=30)


def _round_trip(application, jpeg) -> tuple[list[bytes], dict, str]:
    """Upload two sessions, analyse, read previews, a region map and the export: what a person does."""
    client = application.test_client()
    body = {"email": "private@example.com", "password": "violet-lantern-harbour"}
    headers = {"Authorization": "Bearer " + data_of(client.post("/api/auth/register", json=body))["token"]}
    rng = np.random.default_rng(8)
    first = {angle: jpeg(name) for angle, name in SCENES.items()}
    again = {angle: jpeg(name, degrade=lambda p: recapture(p, rng)) for angle, name in SCENES.items()}
    sessions = [completed_session(client, headers, photos) for photos in (first, again)]
    for sid in sessions:
        assert client.post(f"/api/analyze-session/{sid}", headers=headers).status_code == 200
    uploads_settled(application)
    shown = data_of(client.get(f"/api/sessions/{sessions[1]}/analysis", headers=headers))
    images = client.get(f"/api/image-preview/{sessions[1]}/front", headers=headers).get_json()["images"]
    local = lambda url: "/" + url.split("://", 1)[1].split("/", 1)[1]  # noqa: E731
    display = client.get(local(images[0]["preview_url"]))
    original = client.get(local(images[0]["original_url"]))
    assert display.status_code == original.status_code == 200
    assert original.data == again["front"]  # no metadata in these uploads: kept byte for byte
    mapped = next(a["angle_type"] for a in shown["session_analysis"]["per_angle"] if a.get("region_map_url"))
    region_map = client.get(f"/api/sessions/{sessions[1]}/region-map/{mapped}", headers=headers)
    assert region_map.status_code == 200 and region_map.data.startswith(b"\x89PNG")
    export = zipfile.ZipFile(io.BytesIO(client.get("/api/account/export", headers=headers).data))
    assert json.loads(export.read("data.json"))["sessions"] and any(n.endswith(".jpg") for n in export.namelist())
    for name in export.namelist():
        if name.endswith(".jpg"):
            assert export.read(name).startswith(b"\xff\xd8")  # the export itself is the person's own copy, plain
    return [*first.values(), *again.values()], headers, sessions[1]


def _columns(application) -> list[bytes]:
    with application.app_context():
        blobs = [bytes(blob) for sql in IMAGE_COLUMNS for blob in db.session.scalars(text(sql))]
        db.session.remove()
    return blobs


def test_nothing_readable_as_a_photo_in_the_bucket_or_the_database_then_erasure_leaves_nothing(s3_app, jpeg):
    application, bucket, client = s3_app
    uploaded, headers, _ = _round_trip(application, jpeg)
    objects = _bucket_objects(client, bucket)
    kinds = {key.rsplit("/", 1)[1].split(".", 1)[1] for key in objects}
    assert kinds == {"jpg", "work.npy", "display.jpg"}, kinds
    columns = _columns(application)
    assert len(columns) >= len(SCENES) * 2
    pieces = _pieces(uploaded)
    problems = {name: why for name, blob in [*objects.items(), *enumerate(columns)] if (why := readable(blob, pieces))}
    assert not problems, problems

    assert application.test_client().delete("/api/account", headers=headers).status_code == 200
    assert _bucket_objects(client, bucket) == {}
    with application.app_context():
        assert db.session.scalar(text("SELECT count(*) FROM user_keys")) == 0


def test_nothing_readable_as_a_photo_in_the_folder(app, client, auth, jpeg, upload_dir):
    uploaded, _, _ = _round_trip(app, jpeg)
    pieces = _pieces(uploaded)
    objects = _folder_objects(upload_dir)
    assert objects
    problems = {
        name: why for name, blob in [*objects.items(), *enumerate(_columns(app))] if (why := readable(blob, pieces))
    }
    assert not problems, problems


def test_a_blob_under_another_name_does_not_open_and_answers_404(app, client, auth, jpeg, upload_dir):
    owners = [auth.register() for _ in range(2)]
    sessions = [completed_session(client, h, {a: jpeg(n) for a, n in list(SCENES.items())[:3]}) for h in owners]
    uploads_settled(app)
    with app.app_context():
        keys_of = [
            db.session.scalars(
                text("SELECT storage_key FROM images WHERE session_id = :s ORDER BY angle"), {"s": s}
            ).all()
            for s in sessions
        ]
    root = Path(upload_dir)
    # Another user's photo moved to this user's name, and this user's other photo moved to this one's place.
    shutil.copy(root / keys_of[0][0], root / keys_of[1][0])
    shutil.copy(root / keys_of[1][2], root / keys_of[1][1])
    images = [
        client.get(f"/api/image-preview/{sessions[1]}/{angle}", headers=owners[1]).get_json()["images"][0]
        for angle in ("front", "left")
    ]
    for image in images:
        url = "/" + image["original_url"].split("://", 1)[1].split("/", 1)[1]
        response = client.get(url)
        assert response.status_code == 404 and response.get_json()["error"]["code"] == "not_found"
    with app.app_context():
        blob = (root / keys_of[0][1]).read_bytes()
        with pytest.raises(keys.Unreadable):
            keys.open_sealed(uuid.UUID(keys_of[1][1].split("/")[0]), keys_of[0][1], blob)


def test_rotation_rewraps_every_key_and_every_photo_stays_readable(app, migrated, upload_dir, tmp_path, jpeg):
    key_file = tmp_path / "master.key"
    keys.write_key_file(key_file, keys.Keyring({1: os.urandom(32)}))
    app.extensions["job_runner"].shutdown(timeout=30)  # one pool on the database: the rotating app's
    rotating = create_app(make_config(migrated, upload_dir, MASTER_KEY_FILE=str(key_file)))
    rotating.extensions["job_runner"].start()
    try:
        client = rotating.test_client()
        people = []
        for i in range(3):
            body = {"email": f"rotate-{i}@example.com", "password": "violet-lantern-harbour"}
            headers = {"Authorization": "Bearer " + data_of(client.post("/api/auth/register", json=body))["token"]}
            people.append(
                (
                    headers,
                    completed_session(
                        client, headers, {"front": jpeg("coffee"), "left": jpeg("astronaut"), "right": jpeg("chelsea")}
                    ),
                )
            )
        uploads_settled(rotating)

        def originals() -> list[bytes]:
            found = []
            for headers, sid in people:
                for image in client.get(f"/api/image-preview/{sid}/front", headers=headers).get_json()["images"]:
                    found.append(client.get("/" + image["original_url"].split("://", 1)[1].split("/", 1)[1]).data)
            return found

        before = originals()
        with rotating.app_context():
            wrapped = dict(db.session.execute(text("SELECT user_id, wrapped FROM user_keys")).all())
            db.session.remove()
        assert keys.rotate(rotating, key_file, report=lambda _: None) == len(wrapped) == 3
        with rotating.app_context():
            after = db.session.execute(text("SELECT user_id, wrapped, master_version FROM user_keys")).all()
            db.session.remove()
        assert {row.master_version for row in after} == {2} and all(
            wrapped[row.user_id] != row.wrapped for row in after
        )
        assert sorted(keys.parse_keyring(key_file.read_text()).keys) == [1, 2]
        keys._cache.keys.clear()  # read every key again, through the new master key
        assert originals() == before and all(data.startswith(b"\xff\xd8") for data in before)
        # Resumable: run again with nothing behind and it adds version 3 and moves every key to it.
        assert keys.rotate(rotating, key_file, report=lambda _: None) == 3
    finally:
        rotating.extensions["job_runner"].shutdown(timeout=30)


def test_erasure_then_a_restored_old_copy_of_the_storage_yields_nothing_readable(
    app, client, auth, jpeg, upload_dir, tmp_path
):
    headers = auth.register()
    sid = completed_session(client, headers, {a: jpeg(n) for a, n in list(SCENES.items())[:3]})
    uploads_settled(app)
    backup = tmp_path / "last-week"
    shutil.copytree(upload_dir, backup)
    with app.app_context():
        stored = db.session.scalars(text("SELECT storage_key FROM images WHERE session_id = :s"), {"s": sid}).all()
    assert client.delete("/api/account", headers=headers).status_code == 200
    shutil.copytree(backup, upload_dir, dirs_exist_ok=True)  # an old backup put back, the database as it is now
    with app.app_context():
        for key in stored:
            assert (Path(upload_dir) / key).exists()
            with pytest.raises(FileNotFoundError):
                app.extensions["storage"].get(key)
            user_id = uuid.UUID(key.split("/")[0])
            assert keys.user_key(user_id, create=False) is None


def test_storage_interface_in_a_folder_and_a_bucket(tmp_path, s3_bucket):
    endpoint, bucket, _ = s3_bucket
    for store in (LocalStorage(str(tmp_path)), S3Storage(bucket, "pre/fix", endpoint, "us-east-1")):
        store.put("u1/s1/a.jpg", b"one")
        store.put("u1/s1/b.jpg", b"two")
        store.put("u1/s2/c.jpg", b"three")
        store.put("u2/s3/d.jpg", b"four")
        assert store.get("u1/s1/a.jpg") == b"one" and store.exists("u1/s1/b.jpg")
        store.put("u1/s1/a.jpg", b"one again")
        assert store.get("u1/s1/a.jpg") == b"one again"
        store.delete("u1/s1/a.jpg")
        store.delete("u1/s1/a.jpg")
        assert not store.exists("u1/s1/a.jpg")
        with pytest.raises(FileNotFoundError):
            store.get("u1/s1/a.jpg")
        store.delete_prefix("u1")
        assert not store.exists("u1/s1/b.jpg") and not store.exists("u1/s2/c.jpg")
        assert store.get("u2/s3/d.jpg") == b"four"
        with pytest.raises(ValueError):
            store.put("../escape.jpg", b"x")


def test_previews_are_display_size_and_the_original_stays_available(app, client, auth, photos):
    headers = auth.register()
    big = np.asarray(Image.fromarray(photos["coffee"]).resize((3000, 2000)))
    buffer = io.BytesIO()
    Image.fromarray(big).save(buffer, "JPEG", quality=92)
    sid = create_session(client, headers, "quick")
    assert upload(client, headers, sid, buffer.getvalue(), "front").status_code == 201
    image = client.get(f"/api/image-preview/{sid}/front", headers=headers).get_json()["images"][0]
    shown = client.get("/" + image["preview_url"].split("://", 1)[1].split("/", 1)[1]).data
    original = client.get("/" + image["original_url"].split("://", 1)[1].split("/", 1)[1]).data
    assert Image.open(io.BytesIO(shown)).size == (1600, 1067)
    assert Image.open(io.BytesIO(original)).size == (3000, 2000) and len(shown) < len(original) / 3


def test_production_without_a_master_key_refuses_to_start(migrated):
    env = {key: value for key, value in os.environ.items() if key not in ("BCD_MASTER_KEY", "BCD_MASTER_KEY_FILE")} | {
        "BCD_ENV": "production",
        "SECRET_KEY": "x" * 40,
        "DATABASE_URL": migrated,
        "ALLOWED_ORIGINS": "https://app.example.org",
    }
    started = subprocess.run(
        [sys.executable, "-c", "from bcd_app import create_app; create_app()"], env=env, capture_output=True, text=True
    )
    assert started.returncode != 0
    assert "BCD_MASTER_KEY_FILE" in started.stderr and "must be set in production" in started.stderr


def test_seal_existing_seals_what_an_older_version_kept_in_plain(app, client, auth, jpeg, upload_dir):
    from bcd_app.services.privacy import seal_existing

    headers = auth.register()
    sid = completed_session(client, headers, {a: jpeg(n) for a, n in list(SCENES.items())[:3]})
    assert client.post(f"/api/analyze-session/{sid}", headers=headers).status_code == 200
    uploads_settled(app)
    with app.app_context():
        key = db.session.scalar(text("SELECT storage_key FROM images WHERE session_id = :s LIMIT 1"), {"s": sid})
        plain = app.extensions["storage"].get(key)
        # As an older version left it: the photo in plain, a region copy in plain.
        (Path(upload_dir) / key).write_bytes(plain)
        copy_row = db.session.execute(text("SELECT id, region_copy FROM angle_embeddings LIMIT 1")).one()
        sealed_copy = bytes(copy_row.region_copy)
        user_id = uuid.UUID(key.split("/")[0])
        session_id, angle, version = db.session.execute(
            text("SELECT session_id, angle, model_version FROM angle_embeddings WHERE id = :i"), {"i": copy_row.id}
        ).one()
        from bcd_app.store.vectors import kept_object_id

        opened = keys.open_sealed(user_id, kept_object_id("region_copy", session_id, angle, version), sealed_copy)
        db.session.execute(
            text("UPDATE angle_embeddings SET region_copy = :b WHERE id = :i"), {"b": opened, "i": copy_row.id}
        )
        db.session.commit()
        counts = seal_existing(report=lambda _: None)
        assert counts["files"] == 1 and counts["angle_copies"] == 1
        assert not (Path(upload_dir) / key).read_bytes().startswith(b"\xff\xd8")
        assert app.extensions["storage"].get(key) == plain
        assert seal_existing(report=lambda _: None) == {"files": 0, "angle_copies": 0}
        db.session.remove()


def test_processes_starting_together_make_one_development_key(tmp_path):
    """Two gunicorn workers starting at once on a first run must not each make (and keep) a key of their own."""
    import concurrent.futures

    config = {"MASTER_KEY_FILE": "", "MASTER_KEY": "", "DEV_MASTER_KEY_FILE": str(tmp_path / "instance" / "master.key")}
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        loaded = list(pool.map(lambda _: keys.load_keyring(config).keys[1], range(16)))
    assert len(set(loaded)) == 1
    assert [p.name for p in (tmp_path / "instance").iterdir()] == ["master.key"]
    assert (tmp_path / "instance" / "master.key").stat().st_mode & 0o777 == 0o600
