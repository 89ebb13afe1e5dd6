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


@dataclass(frozen=True)
class _Baseline:
    """The user's baseline session for an angle, and the small copy of its best photo kept with its vectors."""

    session_id: uuid.UUID
    region_copy: bytes | None


def _baseline_of(user_id: uuid.UUID, angle: str, current: uuid.UUID | None = None) -> _Baseline | None:
    """The user's baseline session when it has this angle (and is not `current`), read in one look at its row."""
    version = embedder.info().version
    baseline_id = session_rows.baseline_id(user_id, version)
    if baseline_id is None or baseline_id == current:
        return None
    kept = regions.references(baseline_id, version, [angle], user_id)
    return _Baseline(baseline_id, kept[0][2]) if kept else None


def pose_reference(user_id: uuid.UUID, session_id: uuid.UUID, angle: str) -> np.ndarray | None:
    """The baseline's kept small copy of an angle, which an upload to `session_id` is posed against; None
    without one."""
    baseline = _baseline_of(user_id, angle, session_id)
    if baseline is None or baseline.region_copy is None:
        return None
    return preprocessing.decode_working(baseline.region_copy)


def upload_pose(working: np.ndarray, reference: np.ndarray) -> FoundPose | None:
    """The pose of an upload's working copy against the baseline's copy of its angle, and its hint; None when
    either is a strip or a thumbnail with no pose to measure (no database access: it runs beside the upload's
    writes)."""
    if not (registration.registrable(working) and registration.registrable(reference)):
        return None
    found = registration.pose(registration.align(working, reference), working.shape[:2], reference.shape[:2])
    return FoundPose(found, retake_hint(found))


def guide_session(user_id: uuid.UUID, angle: str) -> uuid.UUID:
    """The baseline session the caller's capture guide of `angle` is drawn from; NotFound without one."""
    baseline = _baseline_of(user_id, angle)
    if baseline is None:
        raise NotFound("No capture guide for this view yet: it comes from your baseline session.")
    return baseline.session_id


def guide_png(user_id: uuid.UUID, angle: str) -> bytes:
    """The caller's capture guide of `angle`: the baseline's best photo of it as soft outlines on transparency."""
    best = images.best(guide_session(user_id, angle), angle)
    try:
        if best is not None:
            return capture_guide_png(images.working_pixels(best))
    except FileNotFoundError:
        pass
    raise NotFound("No capture guide for this view yet: it comes from your baseline session.")
