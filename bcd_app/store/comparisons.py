"""Photos compared with the baseline as they arrived (photo_comparisons): kept and read back exactly."""

import dataclasses
import uuid

import numpy as np
from sqlalchemy import delete, select, tuple_
from sqlalchemy.dialects.postgresql import insert

from ..db import db
from ..models import Photo, PhotoComparison
from ..vision.regions import COMPARISON_VERSION, Cell
from ..vision.registration import Alignment
from . import keys


@dataclasses.dataclass(frozen=True)
class Compared:
    """One photo against the baseline's photo of its angle: the alignment, the cells, the model's vector of the
    photo brought onto the baseline and the cell vectors pooled from its map (both None when it could not be
    registered), and the baseline photo's frame (height, width of its working copy)."""

    alignment: Alignment
    cells: list[Cell]
    vector: np.ndarray | None
    cell_vectors: bytes | None
    frame: tuple[int, int]


def _object_id(image_id: uuid.UUID, reference_id: uuid.UUID, model_version: str) -> str:
    return f"photo_comparisons.cell_vectors/{image_id}/{reference_id}/{model_version}/{COMPARISON_VERSION}"


def _json_safe(value: object) -> object:
    """Numpy's scalars and arrays as JSON's numbers and lists (a float64 round-trips exactly)."""
    if isinstance(value, np.ndarray | np.generic):
        return value.tolist()
    if isinstance(value, list | tuple):
        return [_json_safe(item) for item in value]
    return value


def _fields(record: Alignment | Cell) -> dict:
    return {field.name: _json_safe(getattr(record, field.name)) for field in dataclasses.fields(record)}


def _alignment(fields: dict) -> Alignment:
    own = {name: value for name, value in fields.items() if name != "frame"}
    return Alignment(**{**own, "matrix": np.asarray(fields["matrix"], dtype=np.float64)})


def _cell(fields: dict) -> Cell:
    return Cell(**{**fields, "bbox": tuple(fields["bbox"])})


def keep(
    image_id: uuid.UUID, reference_id: uuid.UUID, model_version: str, compared: Compared, owner: uuid.UUID
) -> None:
    """Add a photo's comparison (its cell vectors sealed for `owner`) in the caller's transaction; a row another
    process kept first stays."""
    db.session.execute(
        insert(PhotoComparison)
        .values(
            id=uuid.uuid4(),
            image_id=image_id,
            reference_image_id=reference_id,
            model_version=model_version,
            method=COMPARISON_VERSION,
            alignment={**_fields(compared.alignment), "frame": list(compared.frame)},
            cells=[_fields(cell) for cell in compared.cells],
            embedding=compared.vector,
            cell_vectors=keys.seal_column(
                owner, _object_id(image_id, reference_id, model_version), compared.cell_vectors
            ),
        )
        .on_conflict_do_nothing(constraint="uq_photo_comparisons_key")
    )


def exists(image_id: uuid.UUID, reference_id: uuid.UUID, model_version: str) -> bool:
    """Whether this photo's comparison with that reference is kept (this model and comparison version)."""
    kept = select(PhotoComparison.id).where(
        PhotoComparison.image_id == image_id,
        PhotoComparison.reference_image_id == reference_id,
        PhotoComparison.model_version == model_version,
        PhotoComparison.method == COMPARISON_VERSION,
    )
    return db.session.scalar(kept) is not None


def kept(
    pairs: list[tuple[uuid.UUID, uuid.UUID]], model_version: str, owner: uuid.UUID
) -> dict[tuple[uuid.UUID, uuid.UUID], Compared]:
    """(image id, reference image id) -> the kept comparison, for the pairs that have one; cell vectors that do not
    open make their pair read as missing (the analysis computes it again)."""
    if not pairs:
        return {}
    rows = db.session.execute(
        select(PhotoComparison).where(
            tuple_(PhotoComparison.image_id, PhotoComparison.reference_image_id).in_(pairs),
            PhotoComparison.model_version == model_version,
            PhotoComparison.method == COMPARISON_VERSION,
        )
    ).scalars()
    found = {}
    for row in rows:
        object_id = _object_id(row.image_id, row.reference_image_id, model_version)
        cell_vectors = keys.open_column(owner, object_id, row.cell_vectors)
        if row.cell_vectors is not None and cell_vectors is None:
            continue
        vector = None if row.embedding is None else np.asarray(row.embedding, dtype=np.float32)
        found[(row.image_id, row.reference_image_id)] = Compared(
            _alignment(row.alignment),
            [_cell(cell) for cell in row.cells],
            vector,
            cell_vectors,
            tuple(row.alignment["frame"]),
        )
    return found


def forget_session(session_id: uuid.UUID) -> None:
    """Remove the kept comparisons of a session's photos (its analysis has read them) in the caller's transaction."""
    photos = select(Photo.id).where(Photo.session_id == session_id)
    db.session.execute(delete(PhotoComparison).where(PhotoComparison.image_id.in_(photos)))
