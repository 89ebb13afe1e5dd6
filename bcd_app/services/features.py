"""Each left or right photo's model output as taken (the symmetry score), computed once per model version and
kept: in the background as the photo arrives, or by the analysis for a photo that has none yet. Either way
vision/features.py computes it, so the analysis gives the same answer."""

import uuid

from sqlalchemy.exc import IntegrityError

from ..db import db
from ..store import features as store
from ..store import images, jobs
from ..vision.embeddings import embedder
from ..vision.features import compute, needs_own_output


def precompute(image_id: uuid.UUID) -> bool:
    """Compute and keep a just-uploaded photo's output as taken; False when there was nothing to do: an angle the
    symmetry score does not read, already kept, its session's analysis had begun when this began (it computes what
    it misses; work begun first it waits for: jobs/runner.py), or the photo was removed meanwhile (the row's
    foreign key refuses it, so nothing outlives an erasure)."""
    image = images.get(image_id)
    version = embedder.info().version
    if (
        image is None
        or not needs_own_output(image.angle)
        or store.exists(image_id, version)
        or jobs.analysis_running(image.session_id)
    ):
        db.session.rollback()
        return False
    angle = image.angle
    try:
        pixels = images.normalised_working(image).pixels
    except FileNotFoundError:
        db.session.rollback()
        return False
    # End the read transaction before the model runs: no snapshot held open while the CPU works.
    db.session.rollback()
    features = compute(pixels, angle)
    try:
        store.keep(image_id, version, features)
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        return False
    return True
