"""Accounts and bearer tokens."""

from datetime import timedelta

from sqlalchemy import update

from bcd_app.db import db
from bcd_app.models import AuthToken, utcnow


def test_register_login_me_logout_round_trip(client):
    reg = client.post("/api/auth/register", json={"email": "  Ada@Example.COM ", "password": "s3cret-pass"})
    assert reg.status_code == 201
    assert reg.get_json()["data"]["user"]["email"] == "ada@example.com"
    login = client.post("/api/auth/login", json={"email": "ada@example.com", "password": "s3cret-pass"})
    assert login.status_code == 200
    data = login.get_json()["data"]
    assert data["token"] and data["expires_at"]
    headers = {"Authorization": f"Bearer {data['token']}"}
    assert client.get("/api/auth/me", headers=headers).get_json()["data"]["email"] == "ada@example.com"
    assert client.post("/api/auth/logout", headers=headers).status_code == 200
    revoked = client.get("/api/auth/me", headers=headers)
    assert revoked.status_code == 401
    assert revoked.get_json()["error"]["code"] == "revoked_token"


def test_duplicate_email_is_409(client):
    body = {"email": "dup@example.com", "password": "s3cret-pass"}
    assert client.post("/api/auth/register", json=body).status_code == 201
    again = client.post("/api/auth/register", json={**body, "email": "DUP@example.com"})
    assert again.status_code == 409
    assert again.get_json()["detail"]


def test_weak_or_empty_inputs_are_400(client):
    for body in (
        {"email": "", "password": "s3cret-pass"},
        {"email": "not-an-email", "password": "s3cret-pass"},
        {"email": "a@example.com", "password": ""},
        {"email": "a@example.com", "password": "short1"},
        {"email": "a@example.com", "password": "12345678901"},
        {"email": ["a@example.com"], "password": "s3cret-pass"},
    ):
        response = client.post("/api/auth/register", json=body)
        assert response.status_code == 400, body
        assert set(response.get_json()) >= {"error", "detail"}
    assert client.post("/api/auth/register", data="not json", content_type="text/plain").status_code == 400


def test_wrong_password_and_unknown_email_look_alike(client, auth):
    auth.register("known@example.com")
    wrong = client.post("/api/auth/login", json={"email": "known@example.com", "password": "nope-nope-1"})
    unknown = client.post("/api/auth/login", json={"email": "ghost@example.com", "password": "nope-nope-1"})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.get_json()["error"] == unknown.get_json()["error"]


def test_password_is_stored_hashed(app, auth):
    from bcd_app.models import User

    auth.register("hash@example.com", password="plain-text-9")
    with app.app_context():
        user = db.session.query(User).filter_by(email="hash@example.com").one()
        assert "plain-text-9" not in user.password_hash
        assert user.password_hash.startswith("$argon2id$v=19$m=19456,t=2,p=1$")


def test_missing_malformed_and_expired_tokens_are_401(app, client, auth):
    headers = auth.register()
    for bad in ({}, {"Authorization": "Bearer"}, {"Authorization": "Basic abc"}, {"Authorization": "Bearer nope"}):
        response = client.get("/api/sessions", headers=bad)
        assert response.status_code == 401
        assert response.get_json()["error"]["code"] in {"missing_token", "invalid_token"}
    with app.app_context():
        db.session.execute(update(AuthToken).values(expires_at=utcnow() - timedelta(seconds=1)))
        db.session.commit()
    expired = client.get("/api/sessions", headers=headers)
    assert expired.status_code == 401
    assert expired.get_json()["error"]["code"] == "expired_token"


def test_tokens_are_stored_only_as_hashes(app, client):
    token = client.post("/api/auth/register", json={"email": "t@example.com", "password": "s3cret-pass"}).get_json()[
        "data"
    ]["token"]
    with app.app_context():
        stored = [row.token_hash for row in db.session.query(AuthToken)]
    assert token not in stored
    assert len(stored) == 1 and len(stored[0]) == 64
