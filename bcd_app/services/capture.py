"""Helping a photo be taken the way the baseline's was: its pose against the baseline at upload, and the
baseline's outline as a camera overlay."""

import uuid
from dataclasses import dataclass

import numpy as np

from ..errors import NotFound
from ..scoring.retake import retake_hint
from ..store import images, regions
from ..store import sessions as session_rows
from ..vision import preprocessing, registration
from ..vision.drawing import capture_guide_png
from ..vision.embeddings import embedder


@dataclass(frozen=True)
class FoundPose:
    """A pose and the neutral hint it calls for."""

    pose: registration.Pose
    hint: str | None


def _baseline_of(user_id: uuid.UUID, angle: str, current: uuid.UUID | None = None) -> uuid.UUID | None:
    """The user's baseline session when it has this angle (and is not `current`)."""
    version = embedder.info().version
    baseline_id = session_rows.baseline_id(user_id, version)
    if baseline_id is None or baseline_id == current or not regions.references(baseline_id, version, [angle]):
        return None
    return baseline_id


def upload_pose(user_id: uuid.UUID, session_id: uuid.UUID, angle: str, working: np.ndarray) -> FoundPose | None:
    """The pose of an upload's working copy against the baseline's kept copy of its angle; None without one."""
    baseline_id = _baseline_of(user_id, angle, session_id)
    if baseline_id is None:
        return None
    (_, _, region_copy), *_ = regions.references(baseline_id, embedder.info().version, [angle])
    if region_copy is None:
        return None
    reference = preprocessing.decode_working(region_copy)
    found = registration.pose(registration.align(working, reference), working.shape[:2], reference.shape[:2])
    return FoundPose(found, retake_hint(found))


def guide_session(user_id: uuid.UUID, angle: str) -> uuid.UUID:
    """The baseline session the caller's capture guide of `angle` is drawn from; NotFound without one."""
    baseline_id = _baseline_of(user_id, angle)
    if baseline_id is None:
        raise NotFound("No capture guide for this view yet: it comes from your baseline session.")
    return baseline_id


def guide_png(user_id: uuid.UUID, angle: str) -> bytes:
    """The caller's capture guide of `angle`: the baseline's best photo of it as soft outlines on transparency."""
    best = images.best(guide_session(user_id, angle), angle)
    try:
        if best is not None:
            return capture_guide_png(images.working_pixels(best))
    except FileNotFoundError:
        pass
    raise NotFound("No capture guide for this view yet: it comes from your baseline session.")
