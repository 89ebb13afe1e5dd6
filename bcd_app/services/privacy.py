"""Operator work on the photo encryption: sealing what an older version stored in plain (run once after upgrading)."""

import uuid
from collections.abc import Callable

from sqlalchemy import select

from ..db import db
from ..models import AngleEmbedding, Photo
from ..store import keys
from ..store.files import display_key, storage, working_key
from ..store.vectors import kept_object_id

BATCH = 200


def _plain(blob: bytes | None) -> bool:
    return blob is not None and not bytes(blob).startswith(keys.MAGIC)


def seal_existing(report: Callable[[str], None] = print) -> dict[str, int]:
    """Seal every object and binary column still stored in plain, in place (idempotent and resumable: a sealed one
    is left as it is). Answers how many of each were sealed."""
    inner, counts = storage().inner, {"files": 0, "angle_copies": 0}
    for photo in db.session.scalars(select(Photo).execution_options(yield_per=BATCH)):
        for key in (photo.storage_key, working_key(photo.storage_key), display_key(photo.storage_key)):
            try:
                raw = inner.get(key)
            except FileNotFoundError:
                continue
            if _plain(raw):
                storage().put(key, raw)
                counts["files"] += 1
    for row in db.session.scalars(select(AngleEmbedding)):
        for column in ("cells", "region_copy"):
            value = getattr(row, column)
            if _plain(value):
                object_id = kept_object_id(column, row.session_id, row.angle, row.model_version)
                setattr(row, column, keys.seal(uuid.UUID(str(row.user_id)), object_id, bytes(value)))
                counts["angle_copies"] += 1
    db.session.commit()
    report(f"sealed {counts['files']} files, {counts['angle_copies']} angle copies")
    return counts
