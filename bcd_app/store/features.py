"""Each photo's kept model output (image_embeddings), per model version."""

import uuid

import numpy as np
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert

from ..db import db
from ..models import ImageEmbedding
from ..vision.features import Features, decode_feature_map
from . import keys


def feature_map_object_id(image_id: uuid.UUID, model_version: str) -> str:
    """The name a photo's feature map is sealed under."""
    return f"image_embeddings.feature_map/{image_id}/{model_version}"


def stored(image_ids: list[uuid.UUID], model_version: str, owner: uuid.UUID) -> dict[uuid.UUID, Features]:
    """The kept output of these images (all of `owner`) under this model version, by image id; a feature map that
    does not open reads as none."""
    rows = db.session.execute(
        select(
            ImageEmbedding.image_id,
            ImageEmbedding.embedding,
            ImageEmbedding.mirrored_embedding,
            ImageEmbedding.feature_map,
        ).where(ImageEmbedding.image_id.in_(image_ids), ImageEmbedding.model_version == model_version)
    )
    return {row.image_id: _features(row, owner, model_version) for row in rows}


def _features(row, owner: uuid.UUID, model_version: str) -> Features:
    plain = keys.open_column(owner, feature_map_object_id(row.image_id, model_version), row.feature_map)
    feature_map = None if plain is None else decode_feature_map(plain, len(row.embedding))
    mirrored = None if row.mirrored_embedding is None else np.asarray(row.mirrored_embedding, dtype=np.float32)
    return Features(np.asarray(row.embedding, dtype=np.float32), mirrored, feature_map)


def exists(image_id: uuid.UUID, model_version: str) -> bool:
    """Whether a photo's output under this model version is kept (without loading its map)."""
    kept = select(ImageEmbedding.id).where(
        ImageEmbedding.image_id == image_id, ImageEmbedding.model_version == model_version
    )
    return db.session.scalar(kept) is not None


def keep(image_id: uuid.UUID, model_version: str, features: Features, owner: uuid.UUID) -> None:
    """Add a photo's output (its feature map sealed for `owner`) in the caller's transaction; a row another process
    kept first stays."""
    feature_map = None if features.feature_map is None else features.feature_map.tobytes()
    db.session.execute(
        insert(ImageEmbedding)
        .values(
            id=uuid.uuid4(),
            image_id=image_id,
            model_version=model_version,
            embedding=features.vector,
            mirrored_embedding=features.mirrored,
            feature_map=keys.seal_column(owner, feature_map_object_id(image_id, model_version), feature_map),
        )
        .on_conflict_do_nothing(constraint="uq_image_embeddings_image_model")
    )
