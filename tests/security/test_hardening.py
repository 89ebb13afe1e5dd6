"""Reproductions of the attacks and faults found from outside, each pinned as a test: hostile text, odd
images, races, brute force, weak passwords, private folders."""

import io
import json
import stat
import threading
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

from bcd_app import create_app
from bcd_app.db import contended, db
from tests import photo_data
from tests.conftest import make_config
from tests.helpers import completed_session, create_session, data_of, upload, wait_until
from tests.photo_data import SCENES


def _register(client, email: str, password: str = "correct-horse-9"):
    return client.post("/api/auth/register", json={"email": email, "password": password})


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/api/auth/register", {"email": "lone\ud800@example.com", "password": "correct-horse-9"}),
        ("/api/auth/register", {"email": "x@example.com", "password": "correct\udfffhorse-9"}),
        ("/api/auth/login", {"email": "lone\ud800@example.com", "password": "whatever-1"}),
        ("/api/auth/login", {"email": "x@example.com", "password": "pass\ud800word"}),
        ("/api/auth/login", {"email": "nul\u0000@example.com", "password": "whatever-1"}),
        ("/api/auth/register", {"email": "a" * 60 + "@" + "\u0130" * 185 + ".com", "password": "correct-horse-9"}),
    ],
)
def test_hostile_credentials_are_400_naming_the_field(client, path, body):
    response = client.post(path, data=json.dumps(body), content_type="application/json")
    assert response.status_code == 400, response.get_json()
    assert response.get_json()["detail"].startswith(("email", "password")), response.get_json()


def test_hostile_bodies_and_queries_are_400(client, auth):
    headers = auth.register()
    notes = client.post("/api/sessions", json={"session_type": "full", "notes": "a\u0000b"}, headers=headers)
    assert notes.status_code == 400 and "notes" in notes.get_json()["detail"]
    huge_page = client.get("/api/sessions?page=1000000000000000000", headers=headers)
    assert huge_page.status_code == 400 and "page" in huge_page.get_json()["detail"]
    nested = "[" * 1000 + "]" * 1000
    deep = client.post("/api/sessions", data=nested, content_type="application/json", headers=headers)
    assert deep.status_code == 400 and deep.get_json()["error"]["code"] == "invalid_json"
    form = client.post("/api/auth/login", data={"email": "a@b.co"}, content_type="application/x-www-form-urlencoded")
    assert form.status_code == 415


def _png_truncated(photos) -> bytes:
    data = photo_data.encode(photos["coffee"], fmt="PNG")
    return data[: len(data) // 2]


def _png_corrupt_idat(photos) -> bytes:
    data = bytearray(photo_data.encode(photos["coffee"], fmt="PNG"))
    start = data.index(b"IDAT") + 20
    data[start : start + 40] = bytes(b ^ 0xFF for b in data[start : start + 40])
    return bytes(data)


def _webp_bad_exif(photos) -> bytes:
    buffer = io.BytesIO()
    # An IFD whose orientation entry points past the end of the block.
    exif = b"Exif\x00\x00MM\x00*\x00\x00\x00\x08\x00\x05\x01\x12\x00\x03\xff\xff\xff\xff"
    Image.fromarray(photos["coffee"]).save(buffer, format="WEBP", exif=exif)
    return buffer.getvalue()


@pytest.mark.parametrize("make", [_png_truncated, _png_corrupt_idat, _webp_bad_exif])
def test_damaged_images_are_refused_or_read_never_a_500(client, auth, photos, upload_dir, make):
    headers = auth.register()
    sid = create_session(client, headers)
    response = upload(client, headers, sid, make(photos), "front", filename="photo.png")
    assert response.status_code in (201, 422), response.get_json()
    if response.status_code == 422:
        assert response.get_json()["error"]["code"] in {"truncated_image", "damaged_metadata"}
        assert data_of(client.get(f"/api/sessions/{sid}", headers=headers))["image_count"] == 0


def test_upload_folders_are_private(client, auth, jpeg, upload_dir):
    headers = auth.register()
    sid = create_session(client, headers)
    assert upload(client, headers, sid, jpeg(), "front").status_code == 201
    folders = [p for p in Path(upload_dir).rglob("*") if p.is_dir()]
    assert len(folders) >= 2
    for folder in folders:
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700, folder


@pytest.mark.parametrize("password", ["password1", "12345678a", "qwertyuiop", "jane.doe-1990", "short1!"])
def test_common_short_and_email_passwords_are_refused(client, password):
    response = _register(client, "jane.doe@example.com", password)
    assert response.status_code == 400 and response.get_json()["error"]["code"] == "weak_password"
    assert _register(client, "jane.doe@example.com", "violet-lantern-harbour").status_code == 201


def test_login_locks_an_account_after_five_attempts_for_everyone(client):
    assert _register(client, "target@example.com").status_code == 201
    codes = [
        client.post("/api/auth/login", json={"email": "target@example.com", "password": f"guess-{i}-x"}).status_code
        for i in range(8)
    ]
    assert codes == [401] * 5 + [429] * 3
    locked = client.post("/api/auth/login", json={"email": "TARGET@example.com", "password": "correct-horse-9"})
    assert locked.status_code == 429 and int(locked.headers["Retry-After"]) > 0
    assert locked.get_json()["error"]["code"] == "too_many_attempts"
    with client.application.app_context():
        keys = db.session.scalars(text("SELECT key FROM login_failures")).all()
    assert keys and not any("target" in key or "127.0.0.1" in key for key in keys)


def test_login_limit_per_address(client):
    attempts = [
        client.post(
            "/api/auth/login",
            json={"email": f"nobody-{i}@example.com", "password": "guess-word-1"},
            environ_base={"REMOTE_ADDR": "198.51.100.7"},
        ).status_code
        for i in range(22)
    ]
    assert attempts.count(401) == 20 and attempts[20:] == [429, 429]
    elsewhere = client.post(
        "/api/auth/login", json={"email": "nobody-0@example.com", "password": "guess-word-1"}
    ).status_code
    assert elsewhere == 401


def test_good_logins_behind_one_shared_address_never_lock_it(app, migrated, upload_dir):
    """A carrier's NAT: 60 people log in from one address within a minute among 20 typos, with the production
    burst limits on; only failures count, and the 21st wrong password is refused (`app` empties the tables)."""
    limited = create_app(make_config(migrated, upload_dir, RATELIMIT_ENABLED=True))
    client = limited.test_client()
    shared = {"REMOTE_ADDR": "100.64.0.1"}
    for i in range(60):
        body = {"email": f"phone-{i}@example.com", "password": "correct-horse-9"}
        assert (
            client.post("/api/auth/register", json=body, environ_base={"REMOTE_ADDR": f"10.0.{i}.1"}).status_code == 201
        )
    codes = {"good": [], "typo": []}
    for i in range(60):
        good = {"email": f"phone-{i}@example.com", "password": "correct-horse-9"}
        codes["good"].append(client.post("/api/auth/login", json=good, environ_base=shared).status_code)
        if i % 3 == 2:
            typo = {"email": f"phone-{i}@example.com", "password": f"correct-horse-{i}x"}
            codes["typo"].append(client.post("/api/auth/login", json=typo, environ_base=shared).status_code)
    assert codes == {"good": [200] * 60, "typo": [401] * 20}
    wrong = client.post(
        "/api/auth/login", json={"email": "phone-1@example.com", "password": "nope-nope-1"}, environ_base=shared
    )
    assert wrong.status_code == 429 and wrong.get_json()["error"]["code"] == "too_many_attempts"
    # A locked account's refused attempts are no failures of their address: its neighbours still log in.
    other = {"REMOTE_ADDR": "100.64.0.2"}
    for i in range(30):
        guess = {"email": "phone-2@example.com", "password": f"guess-{i}-x"}
        client.post("/api/auth/login", json=guess, environ_base=other)
    neighbour = {"email": "phone-3@example.com", "password": "correct-horse-9"}
    assert client.post("/api/auth/login", json=neighbour, environ_base=other).status_code == 200


@pytest.mark.slow
def test_waiting_on_a_session_deleted_meanwhile_is_404(app, client, auth, jpeg):
    headers = auth.register()
    sid = completed_session(client, headers, {a: jpeg(n) for a, n in SCENES.items()})
    answers = {}

    def analyse() -> None:
        answers["wait"] = app.test_client().post(f"/api/analyze-session/{sid}", headers=headers)

    waiter = threading.Thread(target=analyse)
    waiter.start()
    wait_until(
        lambda: client.get(f"/api/analyze-status/{sid}", headers=headers).get_json()["data"]["status"] != "not_started"
    )
    assert client.delete(f"/api/delete-session/{sid}", headers=headers).status_code == 200
    waiter.join(60)
    assert answers["wait"].status_code in (200, 404), answers["wait"].get_json()


@pytest.mark.slow
def test_erasing_an_account_while_its_session_is_analysed_is_200(app, client, auth, jpeg):
    headers = auth.register()
    sid = completed_session(client, headers, {a: jpeg(n) for a, n in SCENES.items()})
    assert client.post(f"/api/analyze-session/{sid}?async_process=true", headers=headers).status_code == 202
    wait_until(
        lambda: client.get(f"/api/analyze-status/{sid}", headers=headers).get_json()["data"]["stage"] != "queued"
    )
    assert client.delete("/api/account", headers=headers).status_code == 200
    with app.app_context():
        assert db.session.scalar(text("SELECT count(*) FROM sessions")) == 0


def test_an_erasure_that_loses_a_deadlock_runs_again_and_answers_200(app, client, auth):
    # The race the job pool can run into, made on purpose: another transaction holds her session row (as an
    # analysis finishing holds its job row), the erasure's cascade waits on it, then that transaction writes a log
    # row for her account, which waits on the erasure: PostgreSQL ends one of the two after deadlock_timeout.
    headers = auth.register("deadlock@example.com")
    sid = create_session(client, headers)
    with app.app_context():
        user_id = db.session.scalar(text("SELECT user_id FROM sessions WHERE id = :s"), {"s": sid})
        blocker = db.engine.connect()
    answers: list[int] = []
    erasure = threading.Thread(
        target=lambda: answers.append(client.delete("/api/account", headers=headers).status_code)
    )
    try:
        blocker.execute(text("SELECT 1 FROM sessions WHERE id = :s FOR UPDATE"), {"s": sid})
        erasure.start()
        mine = blocker.scalar(text("SELECT pg_backend_pid()"))
        wait_until(
            lambda: blocker.scalar(
                text("SELECT count(*) FROM pg_stat_activity WHERE :mine = ANY(pg_blocking_pids(pid))"), {"mine": mine}
            ),
            what="the erasure waiting on the session row",
        )
        try:
            blocker.execute(
                text(
                    "INSERT INTO analysis_logs (session_id, user_id, status, attempt, processing_time, created_at) "
                    "VALUES (:s, :u, 'failed', 1, 0, now())"
                ),
                {"s": sid, "u": user_id},
            )
            blocker.commit()
        except OperationalError:
            blocker.rollback()
    finally:
        erasure.join(60)
        blocker.close()
    assert answers == [200]
    with app.app_context():
        assert db.session.scalar(text("SELECT count(*) FROM users WHERE email = 'deadlock@example.com'")) == 0


def test_a_lock_not_granted_is_contention_and_an_unreachable_server_is_not(app):
    with app.app_context(), db.engine.connect() as holder, db.engine.connect() as waiter:
        holder.execute(text("SELECT 1 FROM users FOR UPDATE"))
        waiter.execute(text("SET lock_timeout = '50ms'"))
        with pytest.raises(OperationalError) as lost:
            waiter.execute(text("LOCK TABLE users IN EXCLUSIVE MODE"))
        assert contended(lost.value)
    unreachable = create_engine("postgresql+psycopg://nobody@127.0.0.1:1/none", connect_args={"connect_timeout": 2})
    with pytest.raises(OperationalError) as down:
        unreachable.connect()
    assert not contended(down.value)


def test_erasure_racing_its_own_requests_never_answers_500(app, client, auth, jpeg):
    headers = auth.register("racer@example.com")
    sid = create_session(client, headers)
    photo = jpeg("coffee")
    codes: list[int] = []
    barrier = threading.Barrier(4)

    def hammer(kind: str) -> None:
        own = app.test_client()
        barrier.wait()
        for _ in range(6):
            if kind == "login":
                response = own.post(
                    "/api/auth/login", json={"email": "racer@example.com", "password": "correct-horse-9"}
                )
            elif kind == "upload":
                response = upload(own, headers, sid, photo, "front")
            else:
                response = own.post("/api/sessions", json={"session_type": "full"}, headers=headers)
            codes.append(response.status_code)

    threads = [threading.Thread(target=hammer, args=(kind,)) for kind in ("login", "upload", "session")]
    for thread in threads:
        thread.start()
    barrier.wait()
    codes.append(app.test_client().delete("/api/account", headers=headers).status_code)
    for thread in threads:
        thread.join(60)
    assert 500 not in codes and set(codes) <= {200, 201, 400, 401, 404, 409, 429}, codes


def test_concurrent_baseline_changes_are_serialised(app, client, auth, jpeg):
    headers = auth.register()
    sessions = [completed_session(client, headers, {a: jpeg(n) for a, n in SCENES.items()}) for _ in range(3)]
    codes: list[int] = []
    barrier = threading.Barrier(12)

    def pick(sid: str) -> None:
        own = app.test_client()
        barrier.wait()
        codes.append(own.put("/api/baseline", json={"session_id": sid}, headers=headers).status_code)

    threads = [threading.Thread(target=pick, args=(sessions[i % 3],)) for i in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert codes == [200] * 12
    with app.app_context():
        assert db.session.scalar(text("SELECT count(*) FROM sessions WHERE is_baseline")) == 1
