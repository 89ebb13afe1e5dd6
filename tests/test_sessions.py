"""Capture sessions, images, the frontend's paths, and ownership."""

import threading
import uuid
from pathlib import Path

from sqlalchemy import text

from bcd_app.db import db
from bcd_app.store import images as store
from tests.helpers import completed_session, create_session, data_of, upload, uploads_settled, wait_until


def test_create_list_get_session(client, auth):
    headers = auth.register()
    first = create_session(client, headers)
    second = create_session(client, headers, "quick")
    listing = data_of(client.get("/api/sessions?per_page=1", headers=headers))
    assert listing["total"] == 2 and [s["id"] for s in listing["sessions"]] == [second]
    page2 = data_of(client.get("/api/sessions?per_page=1&page=2", headers=headers))
    assert [s["id"] for s in page2["sessions"]] == [first]
    session = data_of(client.get(f"/api/sessions/{first}", headers=headers))
    assert session["status"] == "in_progress" and session["images"] == []


def test_bad_session_inputs_are_400(client, auth):
    headers = auth.register()
    assert client.post("/api/sessions", json={"session_type": "long"}, headers=headers).status_code == 400
    assert client.post("/api/sessions", json={"session_type": "full", "notes": 5}, headers=headers).status_code == 400
    assert client.get("/api/sessions?page=0", headers=headers).status_code == 400
    assert client.get("/api/sessions?per_page=abc", headers=headers).status_code == 400


def test_upload_stores_file_row_and_quality(app, client, auth, jpeg, upload_dir):
    headers = auth.register()
    session_id = create_session(client, headers)
    response = upload(client, headers, session_id, jpeg("astronaut"), "front", filename="../../evil.jpg")
    assert response.status_code == 201, response.get_json()
    image = data_of(response)
    assert image["angle"] == "front" and image["width"] == 512 and image["format"] == "JPEG"
    assert 0 <= image["quality"]["image_quality_score"] <= 1
    uploads_settled(app)
    files = sorted(p.name for p in Path(upload_dir).rglob("*") if p.is_file())
    # The photo as sent (less its metadata), its display copy and its working copy, under generated names.
    stem = image["id"]
    assert files == [f"{stem}.display.jpg", f"{stem}.jpg", f"{stem}.work.npy"]
    session = data_of(client.get(f"/api/sessions/{session_id}", headers=headers))
    assert session["images"][0]["id"] == image["id"]


def test_several_images_per_angle_and_delete_one(app, client, auth, jpeg, upload_dir):
    headers = auth.register()
    session_id = create_session(client, headers)
    ids = [data_of(upload(client, headers, session_id, jpeg("coffee"), "left"))["id"] for _ in range(2)]
    assert data_of(client.get(f"/api/sessions/{session_id}", headers=headers))["image_count"] == 2
    assert client.delete(f"/api/sessions/{session_id}/images/{ids[0]}", headers=headers).status_code == 200
    remaining = data_of(client.get(f"/api/sessions/{session_id}", headers=headers))["images"]
    assert [i["id"] for i in remaining] == [ids[1]]
    uploads_settled(app)
    kept = sorted(p.name for p in Path(upload_dir).rglob("*") if p.is_file())
    assert kept == [f"{ids[1]}.display.jpg", f"{ids[1]}.jpg", f"{ids[1]}.work.npy"]


def test_complete_needs_three_angles_for_full(client, auth, jpeg):
    headers = auth.register()
    session_id = create_session(client, headers)
    upload(client, headers, session_id, jpeg("astronaut"), "front")
    upload(client, headers, session_id, jpeg("coffee"), "front")
    refused = client.post(f"/api/sessions/{session_id}/complete", headers=headers)
    assert refused.status_code == 400
    assert "3 distinct angles" in refused.get_json()["detail"]
    quick = create_session(client, headers, "quick")
    upload(client, headers, quick, jpeg("astronaut"), "front")
    assert data_of(client.post(f"/api/sessions/{quick}/complete", headers=headers))["status"] == "completed"


def test_session_info_and_previews_through_signed_urls(app, client, auth, jpeg):
    headers = auth.register()
    photos = {"front": jpeg("astronaut"), "left": jpeg("coffee"), "right": jpeg("chelsea")}
    first = completed_session(client, headers, photos)
    second = completed_session(client, headers, photos)
    info = client.get(f"/api/session-info/{second}", headers=headers).get_json()
    assert info["session_id"] == second and info["previous_session_id"] == first
    assert info["total_sessions"] == 2 and info["is_current"] and not info["is_first_session"]
    assert client.get(f"/api/session-info/{first}", headers=headers).get_json()["is_first_session"] is True

    preview = client.get(f"/api/image-preview/{second}/front", headers=headers).get_json()
    assert preview["count"] == 1 and preview["images"][0]["image_type"] == "front"
    url = preview["images"][0]["preview_url"]
    served = client.get(url)  # no bearer header: the signature is the credential
    assert served.status_code == 200 and served.mimetype == "image/jpeg"
    assert served.data[:2] == b"\xff\xd8" and b"Exif" not in served.data[:64]
    assert "default-src 'none'" in served.headers["Content-Security-Policy"]
    assert client.get(url[:-3] + "abc").status_code == 404

    thumbs = client.get(f"/api/session-thumbnails/{second}", headers=headers).get_json()
    assert thumbs["count"] == 3
    assert client.get(thumbs["thumbnails"][0]["preview_url"]).status_code == 200


def _gone(response):
    return response if response.status_code == 404 else None


def test_preview_url_expires(app, client, auth, jpeg):
    headers = auth.register()
    session_id = create_session(client, headers)
    upload(client, headers, session_id, jpeg(), "front")
    url = client.get(f"/api/image-preview/{session_id}/front", headers=headers).get_json()["images"][0]["preview_url"]
    app.config["PREVIEW_URL_TTL_SECONDS"] = 1
    try:
        expired = wait_until(lambda: _gone(client.get(url)), timeout=10, interval=0.25, what="the link to expire")
    finally:
        app.config["PREVIEW_URL_TTL_SECONDS"] = 300
    assert expired.status_code == 404 and expired.get_json()["error"]["code"] == "link_expired"


def test_delete_session_removes_rows_and_files(app, client, auth, jpeg, upload_dir):
    headers = auth.register()
    session_id = create_session(client, headers)
    upload(client, headers, session_id, jpeg(), "front")
    assert any(Path(upload_dir).rglob("*.jpg"))
    assert client.delete(f"/api/delete-session/{session_id}", headers=headers).get_json() == {"success": True}
    assert client.get(f"/api/sessions/{session_id}", headers=headers).status_code == 404
    assert not any(Path(upload_dir).rglob("*.jpg"))


def _display_copies(upload_dir) -> list:
    return list(Path(upload_dir).rglob("*.display.jpg"))


def test_display_copy_of_a_removed_photo_is_never_written(app, client, auth, jpeg, upload_dir):
    headers = auth.register()
    session_id = create_session(client, headers)
    image_id = data_of(upload(client, headers, session_id, jpeg(), "front"))["id"]
    uploads_settled(app)
    with app.app_context():
        key = store.get(uuid.UUID(image_id)).storage_key
        db.session.rollback()
    assert client.delete(f"/api/delete-session/{session_id}", headers=headers).status_code == 200
    with app.app_context():
        assert store.keep_display(uuid.UUID(image_id), key, b"late copy") is False
        db.session.rollback()
    assert not _display_copies(upload_dir)


def test_removal_waits_for_a_display_copy_being_written(app, client, auth, jpeg, upload_dir):
    headers = auth.register()
    session_id = create_session(client, headers)
    image_id = data_of(upload(client, headers, session_id, jpeg(), "front"))["id"]
    uploads_settled(app)
    for copy in _display_copies(upload_dir):
        copy.unlink()
    deleted = []
    with app.app_context():
        key = store.get(uuid.UUID(image_id)).storage_key
        # The background writer holds the photo's row while it writes: the removal, started now, waits for it.
        assert store.keep_display(uuid.UUID(image_id), key, b"copy") is True
        removal = threading.Thread(
            target=lambda: deleted.append(client.delete(f"/api/delete-session/{session_id}", headers=headers))
        )
        removal.start()
        wait_until(lambda: _waiting_on_a_lock(app), timeout=30, what="the removal to wait on the photo's row")
        assert _display_copies(upload_dir) and not deleted
        db.session.commit()
    removal.join(30)
    assert deleted[0].status_code == 200
    assert not any(Path(upload_dir).rglob("*.jpg"))


def _waiting_on_a_lock(app) -> bool:
    with app.app_context(), db.engine.connect() as connection:
        return bool(
            connection.scalar(
                text(
                    "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()"
                )
            )
        )


def test_other_users_session_and_image_are_404(client, auth, jpeg):
    owner = auth.register()
    intruder = auth.register()
    session_id = create_session(client, owner)
    image_id = data_of(upload(client, owner, session_id, jpeg(), "front"))["id"]
    missing = "00000000-0000-0000-0000-000000000000"
    for sid in (session_id, missing):
        calls = [
            client.get(f"/api/sessions/{sid}", headers=intruder),
            client.post(f"/api/sessions/{sid}/complete", headers=intruder),
            upload(client, intruder, sid, jpeg(), "front"),
            client.delete(f"/api/sessions/{sid}/images/{image_id}", headers=intruder),
            client.get(f"/api/session-info/{sid}", headers=intruder),
            client.get(f"/api/image-preview/{sid}/front", headers=intruder),
            client.get(f"/api/session-thumbnails/{sid}", headers=intruder),
            client.delete(f"/api/delete-session/{sid}", headers=intruder),
        ]
        for response in calls:
            assert response.status_code == 404, (sid, response.request.path)
            assert response.get_json()["error"]["code"] == "not_found"
    # The owner's data is untouched.
    assert data_of(client.get(f"/api/sessions/{session_id}", headers=owner))["image_count"] == 1
