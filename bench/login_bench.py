"""Sign-in stays cheap for the service: a correct login over HTTP against gunicorn (the deploy defaults: 2 workers),
its p50 and p90 with today's argon2id hash, an unknown email beside it (it must cost the same: no timing oracle),
and the hash check alone in one process for the parameters on the table, side by side in one run: argon2id at
OWASP's minimum (what is deployed), Werkzeug's scrypt (what was deployed before: N=2^15, r=8, p=1) and argon2id at
RFC 9106's second recommendation (64 MiB, t=3).

Run: .venv/bin/python bench/login_bench.py [--logins 40]
"""

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from argon2 import PasswordHasher, Type
from werkzeug.security import check_password_hash, generate_password_hash

from bcd_app.services.passwords import HASHER
from bench.service_bench import start_service
from tests.live import Api

PASSWORD = "violet-lantern-harbour-7"
# Wrong logins from one address stay under its limit (20 in 15 minutes).
UNKNOWN_EMAILS = 15


def _timed(call) -> float:
    started = time.perf_counter()
    call()
    return (time.perf_counter() - started) * 1000


def _http(api: Api, logins: int) -> dict[str, list[float]]:
    """Milliseconds of correct logins and of logins for unknown emails."""
    email = "login-bench@example.org"
    api.call("POST", "/api/auth/register", json={"email": email, "password": PASSWORD})
    body = {"email": email, "password": PASSWORD}
    right = [_timed(lambda: api.call("POST", "/api/auth/login", json=body)) for _ in range(logins)]
    unknown = [
        _timed(lambda n=n: api.call("POST", "/api/auth/login", json={"email": f"nobody-{n}@example.org", **body}))
        for n in range(UNKNOWN_EMAILS)
    ]
    return {"correct login (argon2id, deployed)": right, "unknown email": unknown}


def _checks(rounds: int) -> dict[str, list[float]]:
    """Milliseconds of one hash check in this process, for each scheme."""
    rfc_second = PasswordHasher(time_cost=3, memory_cost=64 * 1024, parallelism=1, type=Type.ID)
    stored = {
        "argon2id 19 MiB t=2 p=1 (deployed)": (HASHER.hash(PASSWORD), HASHER.verify),
        "Werkzeug scrypt N=2^15 r=8 p=1 (before)": (
            generate_password_hash(PASSWORD, method="scrypt"),
            lambda hashed, password: check_password_hash(hashed, password),
        ),
        "argon2id 64 MiB t=3 p=1 (RFC 9106 second)": (rfc_second.hash(PASSWORD), rfc_second.verify),
    }
    return {name: [_timed(lambda h=h, v=v: v(h, PASSWORD)) for _ in range(rounds)] for name, (h, v) in stored.items()}


def main() -> None:
    """Measure and print one table."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--logins", type=int, default=40)
    args = parser.parse_args()
    server, pg, _ = start_service("login_bench")
    try:
        measured = _http(Api(server.url), args.logins)
    finally:
        server.stop()
        pg.cleanup()
    measured |= _checks(max(args.logins // 2, 10))
    base = statistics.median(measured["argon2id 19 MiB t=2 p=1 (deployed)"])
    print(f"{'what':45} {'p50 ms':>8} {'p90 ms':>8} {'x deployed hash':>16}")
    for name, times in measured.items():
        p50, p90 = statistics.median(times), statistics.quantiles(times, n=10)[-1]
        print(f"{name:45} {p50:8.1f} {p90:8.1f} {p50 / base:16.2f}")


if __name__ == "__main__":
    main()
