"""Each photo's model output (its vector, a right view's mirrored vector, the last feature map), computed once
per model version and kept in image_embeddings: in the background as the photo arrives, or by the analysis for
a photo that has none yet. Either way the same function computes it, so the analysis gives the same answer."""

import uuid
from dataclasses import dataclass

import numpy as np
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import IntegrityError

from ..constants import MIRROR_PAIR, JobStatus
from ..extensions import db
from ..models import AnalysisJob, Image, ImageEmbedding
from . import images, preprocessing
from .embeddings import embedder

HALF_MAX = float(np.finfo(np.float16).max)


@dataclass(frozen=True)
class Features:
    """One photo's model output: unit vector, mirrored unit vector (right views only), feature map (float16;
    None for a model that gives vectors only)."""

    vector: np.ndarray
    mirrored: np.ndarray | None
    feature_map: np.ndarray | None


def compute(normalised: np.ndarray, angle: str) -> Features:
    """The model's output for a brightness-normalised working copy of a photo of `angle`."""
    model_input = preprocessing.model_input(normalised)[None]
    own = embedder.embed(model_input)
    # The right view mirrored (width axis of CHW flipped): how it would look as a left view.
    mirrored = embedder.embed(model_input[:, :, :, ::-1]).vectors[0] if angle == MIRROR_PAIR[1] else None
    # Kept at half precision: the cells pooled from it agree with full precision to ~1e-4 (a deployer's model
    # with values beyond half precision's range is clipped there rather than turned into infinities).
    feature_map = None if own.maps is None else np.clip(own.maps[0], -HALF_MAX, HALF_MAX).astype(np.float16)
    return Features(own.vectors[0], mirrored, feature_map)


def stored(image_ids: list[uuid.UUID], model_version: str) -> dict[uuid.UUID, Features]:
    """The kept output of these images under this model version, by image id."""
    rows = db.session.execute(
        select(
            ImageEmbedding.image_id,
            ImageEmbedding.embedding,
            ImageEmbedding.mirrored_embedding,
            ImageEmbedding.feature_map,
        ).where(ImageEmbedding.image_id.in_(image_ids), ImageEmbedding.model_version == model_version)
    )
    return {row.image_id: _features(row) for row in rows}


def _features(row) -> Features:
    channels = len(row.embedding)
    feature_map = None
    if row.feature_map is not None:
        flat = np.frombuffer(row.feature_map, dtype=np.float16)
        side = round((flat.size / channels) ** 0.5)
        feature_map = flat.reshape(channels, side, side)
    mirrored = None if row.mirrored_embedding is None else np.asarray(row.mirrored_embedding, dtype=np.float32)
    return Features(np.asarray(row.embedding, dtype=np.float32), mirrored, feature_map)


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
            feature_map=None if features.feature_map is None else features.feature_map.tobytes(),
        )
        .on_conflict_do_nothing(constraint="uq_image_embeddings_image_model")
    )


def precompute(image_id: uuid.UUID, upload_dir: str) -> bool:
    """Compute and keep a just-uploaded photo's output; False when there was nothing to do: already kept, its
    session's analysis has begun (it computes what it misses; both at once would do the work twice), or the
    photo was removed meanwhile (the row's foreign key refuses it, so nothing outlives an erasure)."""
    image = db.session.get(Image, image_id)
    version = embedder.info().version
    kept = select(ImageEmbedding.id).where(ImageEmbedding.image_id == image_id, ImageEmbedding.model_version == version)
    if image is None or db.session.scalar(kept) is not None or _analysis_running(image.session_id):
        db.session.rollback()
        return False
    angle = image.angle
    try:
        pixels = images.normalised_working(upload_dir, image).pixels
    except FileNotFoundError:
        db.session.rollback()
        return False
    # End the read transaction before the model runs: no snapshot held open while the CPU works.
    db.session.rollback()
    features = compute(pixels, angle)
    try:
        keep(image_id, version, features)
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        return False
    return True


def _analysis_running(session_id: uuid.UUID) -> bool:
    # One job row per session (unique).
    return (
        db.session.scalar(select(AnalysisJob.status).where(AnalysisJob.session_id == session_id)) == JobStatus.RUNNING
    )
