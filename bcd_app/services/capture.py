"""Helping a photo be taken the way the baseline's was: its pose against the baseline at upload, and the
baseline's outline as a camera overlay."""

import uuid
from dataclasses import dataclass

import numpy as np

from ..errors import NotFound
from ..scoring.retake import retake_hint
from ..store import images, regions
from ..store import sessions as session_rows
from ..vision import registration
from ..vision.drawing import capture_guide_png
from ..vision.embeddings import embedder
from .regions import Reference, Registered


@dataclass(frozen=True)
class FoundPose:
    """A pose, the neutral hint it calls for, and the registration it was read from (onto the baseline's photo
    itself, None when only its small copy could be read), which the photo's background comparison takes up."""

    pose: registration.Pose
    hint: str | None
    registered: Registered | None


def _baseline_of(user_id: uuid.UUID, angle: str) -> uuid.UUID | None:
    """The user's baseline session when it has this angle, read in one look at its row."""
    version = embedder.info().version
    baseline_id = session_rows.baseline_id(user_id, version)
    if baseline_id is None:
        return None
    return baseline_id if regions.references(baseline_id, version, [angle], user_id) else None


def upload_pose(working: np.ndarray, reference: Reference) -> FoundPose | None:
    """The pose of an upload's working copy against the baseline's photo of its angle, its hint, and the
    registration the comparison takes up; None when either is a strip or a thumbnail with no pose to measure (no
    database access: it runs beside the upload's writes)."""
    if not (registration.registrable(working) and registration.registrable(reference.pixels)):
        return None
    alignment = registration.align(working, reference.pixels)
    found = registration.pose(alignment, working.shape[:2], reference.pixels.shape[:2])
    registered = None if reference.image_id is None else Registered(alignment, reference.image_id)
    return FoundPose(found, retake_hint(found), registered)


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
