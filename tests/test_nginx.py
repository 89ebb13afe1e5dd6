"""The single-VM deploy: nginx (Debian's package) buffering in front of gunicorn, so slow clients do not
starve it, and errors nginx answers itself are the API's JSON."""

import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from tests.helpers import wait_until
from tests.live import LiveServer, free_port, healthy

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "deploy"))

from render_nginx import render

pytestmark = pytest.mark.slow
SLOW_CLIENTS = 40
SLOW_BYTE_EVERY_SECONDS = 2.0


@pytest.fixture()
def nginx_in_front(fresh_db, upload_dir, tmp_path):
    """gunicorn (2 workers) behind nginx on its own port."""
    url, _ = fresh_db
    server = LiveServer(url, upload_dir, workers=2, PROXY_FIX_X_FOR="1").start()
    port = free_port()
    prefix = tmp_path / "nginx"
    prefix.mkdir()
    config = prefix / "nginx.conf"
    config.write_text(render(f"127.0.0.1:{port}", f"127.0.0.1:{server.port}", str(prefix)))
    nginx = subprocess.Popen(
        [shutil.which("nginx") or "/usr/sbin/nginx", "-c", str(config), "-p", str(prefix), "-g", "daemon off;"],
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"

    try:
        wait_until(lambda: healthy(base), timeout=30, interval=0.2, what="nginx to answer")
        yield base, server
    finally:
        nginx.terminate()
        nginx.wait(10)
        server.stop()


def _json_error(response: requests.Response, status: int) -> dict:
    assert response.status_code == status, (response.status_code, response.text[:200])
    assert response.headers["Content-Type"].startswith("application/json")
    body = response.json()
    assert {"code", "message"} <= set(body["error"]) and body["detail"]
    return body


def test_slow_clients_do_not_starve_health_checks(nginx_in_front):
    base, server = nginx_in_front
    port = int(base.rsplit(":", 1)[1])
    clients = []
    head = (
        b"POST /api/auth/login HTTP/1.1\r\nHost: bcd\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n"
    )
    latencies = []
    try:
        for _ in range(SLOW_CLIENTS):
            client = socket.create_connection(("127.0.0.1", port), timeout=5)
            client.sendall(head)
            clients.append(client)
        for _ in range(3):
            due = time.monotonic() + SLOW_BYTE_EVERY_SECONDS
            for client in clients:
                client.sendall(b" ")
            started = time.perf_counter()
            assert requests.get(f"{base}/health", timeout=5).status_code == 200
            latencies.append(time.perf_counter() - started)
            wait_until(lambda due=due: time.monotonic() >= due, timeout=5, interval=0.05, what="the next slow byte")
    finally:
        for client in clients:
            client.close()
    print(f"\n/health through nginx with {SLOW_CLIENTS} slow clients: max {max(latencies) * 1000:.1f} ms")
    assert max(latencies) < 1.0, latencies
    # Direct to gunicorn the service still answers too: nginx held the slow bodies.
    assert requests.get(f"{server.url}/health", timeout=5).status_code == 200


def test_errors_nginx_answers_itself_are_json(nginx_in_front):
    base, server = nginx_in_front
    _json_error(requests.post(f"{base}/api/auth/login", data=b"x" * (22 * 1024 * 1024), timeout=30), 413)
    _json_error(requests.get(f"{base}/api/" + "a" * 20000, timeout=5), 414)
    _json_error(requests.get(f"{base}/health", headers={"X-Big": "b" * 20000}, timeout=5), 400)
    forwarded = requests.get(f"{base}/metrics", headers={"X-Forwarded-For": "127.0.0.1"}, timeout=5)
    assert forwarded.status_code == 200  # nginx replaced the header with the real (loopback) peer
    server.stop()
    down = requests.get(f"{base}/health", timeout=10)
    _json_error(down, 503)
    assert down.headers["Retry-After"] == "5"
