"""Transaction-scoped advisory locks: one user's concurrent changes of one kind run one at a time."""

from sqlalchemy import text

from ..db import db


def serialise(kind: str, key: object) -> None:
    """Hold the lock named `kind:key` until the transaction ends, in a statement of its own, so the next
    statement's snapshot sees everything committed before the lock was granted."""
    db.session.execute(text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"), {"key": f"{kind}:{key}"})
