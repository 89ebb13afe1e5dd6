"""Hostile input: BOLA over every id route, CORS, mass assignment, privacy of logs, erasure and export."""

import io
import json
import logging
import re
import zipfile
from pathlib import Path

import pytest
from sqlalchemy import text

from bcd_app.db import db
from tests.helpers import completed_session, create_session, data_of, upload

ID_PARAMS = {"session_id", "image_id", "current_id", "previous_id", "sign_in_id"}
PUBLIC_ENDPOINTS = {
    "api.auth.register",
    "api.auth.login",
    "api.auth.login_second_factor",
    "api.auth.verify_email",
    "api.auth.request_reset",
    "api.auth.confirm_reset",
    "api.media.image_file",
    "api.media.signed_region_map",
    "api.media.capture_guide_file",
    "api.habits.calendar_feed",
    "api.habits.consent_text",
    "api.clinician.report_file",
}


def _id_routes(app):
    for rule in app.url_map.iter_rules():
        if ID_PARAMS & set(rule.arguments):
            for method in rule.methods - {"HEAD", "OPTIONS"}:
                yield rule, method


def _fill(rule, ids: dict) -> str:
    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", lambda m: ids.get(m.group(1), "front"), rule.rule)


def test_every_id_route_is_404_for_another_user(app, client, auth, jpeg):
    owner, intruder = auth.register(), auth.register()
    photos = {"front": jpeg("astronaut"), "left": jpeg("coffee"), "right": jpeg("chelsea")}
    first = completed_session(client, owner, photos)
    second = completed_session(client, owner, photos)
    image_id = data_of(client.get(f"/api/sessions/{first}", headers=owner))["images"][0]["id"]
    ids = {"session_id": first, "image_id": image_id, "current_id": second, "previous_id": first}
    routes = list(_id_routes(app))
    assert len(routes) >= 12  # every id route of the app is in this list, new ones too
    for rule, method in routes:
        response = client.open(_fill(rule, ids), method=method, headers=intruder, json={})
        assert response.status_code == 404, (rule.rule, method, response.status_code)
        assert response.get_json()["error"]["code"] == "not_found"
    baseline = client.put("/api/baseline", json={"session_id": first}, headers=intruder)
    assert baseline.status_code == 404
    assert data_of(client.get(f"/api/sessions/{first}", headers=owner))["image_count"] == 3


def test_every_non_public_api_route_needs_a_token(app, client):
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/") or rule.endpoint in PUBLIC_ENDPOINTS:
            continue
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            url = _fill(rule, {})
            assert client.open(url, method=method).status_code == 401, (rule.rule, method)


def test_deleted_users_token_is_401(client, auth):
    headers = auth.register()
    assert client.delete("/api/account", headers=headers).status_code == 200
    assert client.get("/api/auth/me", headers=headers).status_code == 401


def test_mass_assignment_fields_are_ignored(client, auth):
    headers = auth.register()
    other = "00000000-0000-0000-0000-00000000abcd"
    created = client.post(
        "/api/sessions",
        json={"session_type": "full", "user_id": other, "status": "completed", "id": other, "is_baseline": True},
        headers=headers,
    )
    session = data_of(created)
    assert session["id"] != other and session["status"] == "in_progress" and session["is_baseline"] is False


@pytest.mark.parametrize(
    ("origin", "allowed"),
    [
        ("http://localhost:3000", True),
        ("http://localhost:3000.evil.net", False),
        ("https://localhost:3000", False),
        ("null", False),
        ("http://evil.example", False),
    ],
)
def test_cors_allows_only_the_frontend_origin(client, origin, allowed):
    preflight = client.options(
        "/api/sessions",
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "Authorization",
        },
    )
    header = preflight.headers.get("Access-Control-Allow-Origin")
    assert (header == origin) is allowed and (header is None) is not allowed
    assert "Access-Control-Allow-Credentials" not in preflight.headers
    assert "Origin" in client.get("/api/sessions", headers={"Origin": origin}).headers.get("Vary", "")


def test_production_config_refuses_wildcard_origins(monkeypatch):
    from config import ProductionConfig

    monkeypatch.setenv("SECRET_KEY", "x" * 32)
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://u@h/db")
    monkeypatch.setattr(ProductionConfig, "ALLOWED_ORIGINS", ["*"])
    with pytest.raises(RuntimeError, match="ALLOWED_ORIGINS"):
        ProductionConfig.validate()
    monkeypatch.delenv("SECRET_KEY")
    monkeypatch.setattr(ProductionConfig, "ALLOWED_ORIGINS", ["https://app.example.com"])
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        ProductionConfig.validate()


def test_security_headers_and_request_id(client, auth):
    headers = auth.register()
    response = client.get("/api/sessions", headers={**headers, "X-Request-ID": "trace-123"})
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["X-Request-ID"] == "trace-123"
    error = client.get("/api/sessions/not-a-uuid", headers={**headers, "X-Request-ID": "trace-456"})
    assert error.get_json()["request_id"] == "trace-456"
    assert client.get("/no/such/page").get_json()["error"]["code"] == "not_found"
    assert client.put("/api/sessions", headers=headers).status_code == 405


def test_erasure_removes_every_row_and_file(app, client, auth, jpeg, upload_dir):
    headers = auth.register("erase@example.com")
    keep = auth.register("keep@example.com")
    photos = {"front": jpeg("astronaut"), "left": jpeg("coffee"), "right": jpeg("chelsea")}
    sid = completed_session(client, headers, photos)
    client.post(f"/api/analyze-session/{sid}?async_process=false", headers=headers)
    kept = completed_session(client, keep, photos)

    archive = client.get("/api/account/export", headers=headers)
    assert archive.status_code == 200 and archive.mimetype == "application/zip"
    with zipfile.ZipFile(io.BytesIO(archive.data)) as zf:
        manifest = json.loads(zf.read("data.json"))
        assert manifest["sessions"][0]["analysis"]["session_id"] == sid
        assert len([n for n in zf.namelist() if n.startswith("images/")]) == 3

    user_id = data_of(client.get("/api/auth/me", headers=headers))["id"]
    with app.app_context():
        image_ids = db.session.scalars(
            text("SELECT i.id FROM images i JOIN sessions s ON s.id = i.session_id WHERE s.user_id = :u"),
            {"u": user_id},
        ).all()
    assert len(image_ids) == 3
    assert client.delete("/api/account", headers=headers).status_code == 200
    with app.app_context():
        for table in (
            "sessions",
            "auth_tokens",
            "angle_embeddings",
            "session_embeddings",
            "analysis_jobs",
            "analysis_logs",
            "analysis_requests",
            "session_analysis",
        ):
            assert db.session.scalar(text(f"SELECT count(*) FROM {table} WHERE user_id = :u"), {"u": user_id}) == 0
        erased = text("SELECT count(*) FROM image_embeddings WHERE image_id = ANY(:ids)")
        assert db.session.scalar(erased, {"ids": image_ids}) == 0
        assert db.session.scalar(text("SELECT count(*) FROM users WHERE id = :u"), {"u": user_id}) == 0
    assert not (Path(upload_dir) / user_id).exists()
    assert data_of(client.get(f"/api/sessions/{kept}", headers=keep))["image_count"] == 3


def test_logs_carry_no_personal_data(app, client, caplog, jpeg):
    caplog.set_level(logging.DEBUG)
    email, password = "private.person@example.com", "very-secret-99"
    token = data_of(client.post("/api/auth/register", json={"email": email, "password": password}))["token"]
    headers = {"Authorization": f"Bearer {token}"}
    photos = {"front": jpeg("astronaut"), "left": jpeg("coffee"), "right": jpeg("chelsea")}
    sid = completed_session(client, headers, photos)
    client.post(f"/api/analyze-session/{sid}?async_process=false", headers=headers)
    client.post("/api/auth/login", json={"email": email, "password": "wrong-password-1"})
    preview = client.get(f"/api/image-preview/{sid}/front", headers=headers).get_json()
    client.get(preview["images"][0]["preview_url"])
    text_logged = "\n".join(f"{r.getMessage()} {r.__dict__}" for r in caplog.records)
    assert "analysis finished" in text_logged
    for secret in (email, password, token, preview["images"][0]["preview_url"].rsplit("/", 1)[-1]):
        assert secret not in text_logged


def test_upload_bad_inputs_do_not_leave_files(app, client, auth, upload_dir):
    headers = auth.register()
    sid = create_session(client, headers)
    assert upload(client, headers, sid, b"GIF89a" + b"\0" * 100, "front").status_code == 422
    assert not [p for p in Path(upload_dir).rglob("*") if p.is_file()]
