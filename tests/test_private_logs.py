"""Personal data the logs must never carry, sent on purpose: a note, a failed login, a taken email. The check
itself runs when the suite ends (tests/conftest.py, pytest_sessionfinish), over every log of the run: the app's
records, gunicorn's output and PostgreSQL's."""

from tests.conftest import SENT_SECRETS

NOTE = "my private note about a mole"


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
