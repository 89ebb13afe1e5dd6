"""Each photo's kept model output (image_embeddings), per model version."""

import uuid

import numpy as np
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert

from ..db import db
from ..models import ImageEmbedding
from ..vision.features import Features


def stored(image_ids: list[uuid.UUID], model_version: str) -> dict[uuid.UUID, Features]:
    """The kept output of these images under this model version, by image id."""
    rows = db.session.execute(
        select(ImageEmbedding.image_id, ImageEmbedding.embedding, ImageEmbedding.mirrored_embedding).where(
            ImageEmbedding.image_id.in_(image_ids), ImageEmbedding.model_version == model_version
        )
    )
    return {row.image_id: _features(row) for row in rows}


def _features(row) -> Features:
    return Features(_array(row.embedding), _array(row.mirrored_embedding), None)


def _array(vector) -> np.ndarray | None:
    return None if vector is None else np.asarray(vector, dtype=np.float32)


def exists(image_id: uuid.UUID, model_version: str) -> bool:
    """Whether a photo's output under this model version is kept."""
    kept = select(ImageEmbedding.id).where(
        ImageEmbedding.image_id == image_id, ImageEmbedding.model_version == model_version
    )
    return db.session.scalar(kept) is not None


def keep(image_id: uuid.UUID, model_version: str, features: Features) -> None:
    """Add a photo's output in the caller's transaction; a row another process kept first stays."""
    db.session.execute(
        insert(ImageEmbedding)
        .values(
            id=uuid.uuid4(),
            image_id=image_id,
            model_version=model_version,
            embedding=features.vector,
            mirrored_embedding=features.mirrored,
        )
        .on_conflict_do_nothing(constraint="uq_image_embeddings_image_model")
    )
