"""Advisory locks: one user's concurrent changes of one kind run one at a time (transaction-scoped); a photo's
background work and its session's analysis never do the same work twice (held by the work, awaited by the analysis)."""

import contextlib
import time
import uuid
from collections.abc import Iterator

from sqlalchemy import text

from ..db import db


def serialise(kind: str, key: object) -> None:
    """Hold the lock named `kind:key` until the transaction ends, in a statement of its own, so the next
    statement's snapshot sees everything committed before the lock was granted."""
    db.session.execute(text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"), {"key": f"{kind}:{key}"})


def _photo_key(image_id: uuid.UUID) -> str:
    return f"photo-work:{image_id}"


@contextlib.contextmanager
def photo_work(image_id: uuid.UUID) -> Iterator[bool]:
    """Hold a photo's work lock while its background work runs: yields False (and holds nothing) when another
    process holds it. The lock lives on a connection of its own, so it outlasts the work's own transactions and
    dies with the process."""
    with db.engine.connect() as connection:
        key = {"key": _photo_key(image_id)}
        held = bool(connection.scalar(text("SELECT pg_try_advisory_lock(hashtextextended(:key, 0))"), key))
        connection.commit()
        try:
            yield held
        finally:
            if held:
                try:
                    connection.execute(text("SELECT pg_advisory_unlock(hashtextextended(:key, 0))"), key)
                    connection.commit()
                except Exception:
                    # A connection that may still hold the lock is closed, not pooled: closing it ends the lock.
                    connection.invalidate()
                    raise


def await_photo_work(image_ids: list[uuid.UUID], timeout: float, interval: float = 0.01) -> list[uuid.UUID]:
    """Wait, up to `timeout` seconds, until no process holds the work lock of any of these photos; returns those
    still held at the end (the caller computes what they miss). Asks without blocking, in one statement, so a wait
    never aborts the caller's transaction, and holds nothing afterwards."""
    deadline = time.monotonic() + timeout
    by_key = {_photo_key(image_id): image_id for image_id in image_ids}
    while True:
        held = db.session.scalars(_HELD_SQL, {"keys": list(by_key)}).all()
        if not held or time.monotonic() >= deadline:
            return [by_key[key] for key in held]
        by_key = {key: by_key[key] for key in held}
        time.sleep(interval)


# The keys some process holds: a shared lock taken is given back at once (CASE, not AND: PostgreSQL does not
# promise AND's order, and only a lock taken may be given back).
_HELD_SQL = text(
    "SELECT key FROM unnest(CAST(:keys AS text[])) AS key WHERE NOT CASE "
    "WHEN pg_try_advisory_lock_shared(hashtextextended(key, 0)) "
    "THEN pg_advisory_unlock_shared(hashtextextended(key, 0)) ELSE false END"
)
