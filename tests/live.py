"""A real gunicorn server on the test database, for end-to-end tests over HTTP."""

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import requests

from tests.conftest import LOG_DIR, SENT_SECRETS, assert_neutral
from tests.helpers import wait_until

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    """An unused loopback port."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def healthy(base: str) -> bool:
    """Whether a server at `base` answers /health with 200 (not yet listening is False)."""
    try:
        return requests.get(f"{base}/health", timeout=1).status_code == 200
    except requests.RequestException:
        return False


class LiveServer:
    """Starts, kills and restarts gunicorn with the project's gunicorn.conf.py."""

    def __init__(self, database_url: str, upload_dir: str, workers: int = 2, root: Path = ROOT, **env: str) -> None:
        self.root = root
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "UPLOAD_DIR": upload_dir,
            "BIND": f"127.0.0.1:{self.port}",
            "WEB_CONCURRENCY": str(workers),
            "SECRET_KEY": "live-test-secret",
            "RATELIMIT_ENABLED": "0",
            "JOB_POLL_SECONDS": "0.3",
            **env,
        }
        self.process: subprocess.Popen | None = None
        self.log = LOG_DIR / f"gunicorn-{self.port}.log"

    def start(self, timeout: float = 60) -> "LiveServer":
        """Start and wait until /health answers."""
        handle = self.log.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "wsgi:app"],
            cwd=self.root,
            env=self.env,
            stdout=handle,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

        try:
            wait_until(lambda: healthy(self.url), timeout=timeout, interval=0.2, what="gunicorn to answer /health")
        except AssertionError:
            self.kill()
            raise RuntimeError(f"gunicorn did not start: {self.log.read_text()[-2000:]}") from None
        return self

    def kill(self) -> None:
        """SIGKILL the master and every worker at once (a crash, not a shutdown)."""
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)

    def stop(self) -> None:
        """Graceful stop (SIGTERM), as a deploy would."""
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(60)
            except subprocess.TimeoutExpired:
                self.kill()


class Api:
    """A tiny HTTP client for the live server."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.http = requests.Session()

    def call(self, method: str, path: str, headers: dict | None = None, **kwargs) -> requests.Response:
        """One request to a path of the server, or to an absolute URL it handed out."""
        url = path if path.startswith("http") else f"{self.base}{path}"
        response = self.http.request(method, url, headers=headers, timeout=60, **kwargs)
        if response.headers.get("Content-Type", "").startswith(("application/json", "text/")):
            assert_neutral(response.text)
        return response

    def register(self, email: str) -> dict:
        """A new user's headers."""
        body = self.call("POST", "/api/auth/register", json={"email": email, "password": "live-pass-123"}).json()
        SENT_SECRETS.update({email, "live-pass-123", body["data"]["token"]})
        return {"Authorization": f"Bearer {body['data']['token']}"}

    def completed_session(self, headers: dict, photos: dict[str, bytes], session_type: str = "full") -> str:
        """Create, fill and complete a session over HTTP."""
        sid = self.call("POST", "/api/sessions", headers, json={"session_type": session_type}).json()["data"]["id"]
        for angle, data in photos.items():
            response = self.call(
                "POST", f"/api/sessions/{sid}/images", headers, files={"file": ("p.jpg", data)}, data={"angle": angle}
            )
            assert response.status_code == 201, response.text
        assert self.call("POST", f"/api/sessions/{sid}/complete", headers).status_code == 200
        return sid

    def wait_status(self, headers: dict, sid: str, want: set[str], timeout: float = 120) -> dict:
        """Poll analyze-status until its status is in `want`."""

        def reached() -> dict | None:
            data = self.call("GET", f"/api/analyze-status/{sid}", headers).json()["data"]
            return data if data["status"] in want else None

        return wait_until(reached, timeout=timeout, interval=0.3, what=f"{sid} to reach {sorted(want)}")


def count(live_app, sql: str) -> int:
    """One number from the live server's database."""
    from sqlalchemy import text

    from bcd_app.db import db

    with live_app.app_context():
        value = db.session.scalar(text(sql))
        db.session.remove()
        return value
