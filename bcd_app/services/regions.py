"""Where an angle changed: today's best photo of each angle is registered onto the baseline's, compared cell by
cell, weighed against the user's own noise floor there, told apart by since when (the previous session's cells
against the same baseline), and recorded; the photo brought onto the baseline is what the whole-angle distance is
measured on."""

import logging
import os
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
from sqlalchemy.exc import IntegrityError

from ..db import db
from ..models import Photo
from ..schemas.analysis import AlignmentReport, RegionReport
from ..scoring.noise_floor import cell_floor
from ..scoring.result import AngleRegions
from ..store import comparisons, images, jobs
from ..store import regions as store
from ..store import sessions as session_rows
from ..store.comparisons import Compared
from ..vision import preprocessing, registration
from ..vision import regions as compare
from ..vision.embeddings import embedder
from ..vision.features import plain
from ..vision.regions import AnglePhoto

log = logging.getLogger(__name__)
# Samples of each cell the floor learns from: the newest this many.
FLOOR_SAMPLES = 30


@dataclass(frozen=True)
class Reference:
    """An earlier session's best photo of an angle (working copy as shot), its cell vectors, and the photo's id
    (None when only its small copy could be read: a comparison with that is not kept)."""

    pixels: np.ndarray
    cells: np.ndarray | None
    image_id: uuid.UUID | None


@dataclass(frozen=True)
class Registered:
    """How an upload was registered onto the baseline's photo of its angle (for its pose, services/capture.py):
    what that photo's comparison with the baseline takes up instead of registering it again."""

    alignment: registration.Alignment
    reference_id: uuid.UUID


@dataclass(frozen=True)
class AngleFound:
    """An angle's region comparison, and the model's vector of today's best photo brought onto the baseline with
    the cell vectors pooled from its map (None when it could not be registered)."""

    regions: AngleRegions
    vector: np.ndarray | None
    cell_vectors: bytes | None


# Angles compared at once (see _compare_all).
PARALLEL_ANGLES = min(2, os.cpu_count() or 1)


@dataclass(frozen=True)
class BaselineAngle:
    """What the baseline keeps of an angle: its best photo, the cell vectors and the small copy kept with its
    vectors (sealed bytes opened; None when absent)."""

    best: Photo | None
    cells: bytes | None
    region_copy: bytes | None


def _baseline_angles(
    session_id: uuid.UUID, model_version: str, angles: list[str], owner: uuid.UUID
) -> dict[str, BaselineAngle]:
    """angle -> what the analysed baseline session keeps of it, in two queries."""
    bests = images.best_of_angles(session_id, angles)
    return {
        angle: BaselineAngle(bests.get(angle), cells, region_copy)
        for angle, cells, region_copy in store.references(session_id, model_version, angles, owner)
    }


def _reference(angle: str, kept: BaselineAngle) -> Reference | None:
    """The baseline's photo of an angle to compare with: its best photo's working copy, or the small copy kept
    with its vectors when the photo cannot be read; None when neither can."""
    try:
        pixels = images.working_pixels(kept.best) if kept.best else None
    except FileNotFoundError:
        pixels = None
    image_id = None if pixels is None else kept.best.id
    if pixels is None and kept.region_copy is not None:
        pixels = preprocessing.decode_working(kept.region_copy)
    if pixels is None:
        log.warning("reference image missing; angle compared without regions", extra={"angle": angle})
        return None
    return Reference(pixels, None if kept.cells is None else compare.decode_cells(kept.cells), image_id)


def alignment_report(alignment: registration.Alignment, frame: tuple[int, int]) -> AlignmentReport:
    """The alignment as the result reports it: shift as fractions of the reference frame's width and height."""
    height, width = frame
    return AlignmentReport(
        ok=alignment.ok,
        method=alignment.method,
        inliers=alignment.inliers,
        residual_px=None if alignment.residual_px is None else round(alignment.residual_px, 3),
        scale=round(alignment.scale, 4),
        rotation_deg=round(alignment.rotation_deg, 3),
        shift=(round(alignment.shift[0] / width, 4), round(alignment.shift[1] / height, 4)),
    )


def _compared(today: AnglePhoto, reference: Reference, registered: registration.Alignment | None = None) -> Compared:
    """Today's photo registered onto the reference (or as `registered` already did), compared cell by cell, and
    brought through the model once: the cells with the model's evidence, and the vector and cell vectors the
    comparison layers and later sessions use. Unregistered, neither: the photo as taken stands."""
    alignment = registered if registered is not None else registration.align(today.working, reference.pixels)
    comparison = compare.compare(today.working, reference.pixels, alignment)
    frame = reference.pixels.shape[:2]
    if not alignment.ok:
        return Compared(alignment, comparison.cells, None, None, frame)
    features = plain(preprocessing.normalise_brightness(comparison.canonical).pixels)
    cells = comparison.cells
    if features.feature_map is not None and reference.cells is not None:
        cells = compare.with_semantic(cells, features.feature_map, reference.cells, frame)
    return Compared(alignment, cells, features.vector, today.cell_vectors(features.feature_map), frame)


def _compared_or_unregistered(today: AnglePhoto, reference: Reference) -> Compared:
    """_compared, or, when it raises, the view left unregistered (logged once with the reason): one photo the
    comparison cannot take never fails its session's analysis."""
    try:
        return _compared(today, reference)
    except Exception as exc:  # noqa: BLE001 - contained: the view reads as not registered
        log.warning("comparison failed; view left unregistered", extra={"error_type": type(exc).__name__})
        failed = registration.Alignment(False, "failed", 0, None, registration.IDENTITY.copy())
        return Compared(failed, compare.uncompared(reference.pixels).cells, None, None, reference.pixels.shape[:2])


def _compare_all(
    photos: dict[str, list[AnglePhoto]], baselines: dict[str, BaselineAngle], kept: dict[str, Compared]
) -> dict[str, Compared]:
    """Each angle's best photo against the baseline's: as kept when it arrived, or computed now, two angles at a
    time (only then are the baseline's photos read). The work is OpenCV and one-thread ONNX Runtime, which both release
    the GIL, so an idle second core halves the stage; no database access happens in the threads."""
    references = {angle: _reference(angle, baselines[angle]) for angle in baselines if angle not in kept}
    missing = [angle for angle, reference in references.items() if reference is not None]
    with ThreadPoolExecutor(PARALLEL_ANGLES) as pool:
        computed = pool.map(lambda angle: _compared_or_unregistered(photos[angle][0], references[angle]), missing)
        return {**kept, **dict(zip(missing, computed, strict=True))}


def _kept(
    best_ids: dict[str, uuid.UUID], baselines: dict[str, BaselineAngle], model_version: str, owner: uuid.UUID
) -> dict[str, Compared]:
    """angle -> its best photo's comparison with the baseline's best photo of it, kept as the photo arrived."""
    pairs = {
        angle: (best_ids[angle], kept.best.id)
        for angle, kept in baselines.items()
        if angle in best_ids and kept.best is not None
    }
    found = comparisons.kept(list(pairs.values()), model_version, owner)
    return {angle: found[pair] for angle, pair in pairs.items() if pair in found}


def baseline_reference(owner: uuid.UUID, session_id: uuid.UUID, angle: str) -> Reference | None:
    """The owner's baseline photo of an angle that a photo of `session_id` is compared with (_reference); None
    without a baseline, when this session is it, or when neither the photo nor its small copy can be read."""
    model_version = embedder.info().version
    baseline_id = session_rows.baseline_id(owner, model_version)
    if baseline_id is None or baseline_id == session_id:
        return None
    kept = _baseline_angles(baseline_id, model_version, [angle], owner).get(angle)
    return None if kept is None else _reference(angle, kept)


def precompare(image_id: uuid.UUID, registered: Registered | None = None) -> bool:
    """Compare a just-uploaded photo with the baseline's photo of its angle and keep the outcome, so the analysis
    finds it ready; registered as its upload was for its pose (`registered`) when that was onto this baseline photo.
    False when there is nothing to do: no baseline (or this session is it), already kept, the session's analysis
    had begun when this began (it computes what it misses; work begun first it waits for, under the photo's work
    lock: jobs/runner.py), or the photo was removed meanwhile (the row's foreign key refuses the outcome)."""
    model_version = embedder.info().version
    image = images.get(image_id)
    try:
        if image is None or jobs.analysis_begun(image.session_id):
            return False
        owner = image.session.user_id
        reference = baseline_reference(owner, image.session_id, image.angle)
        if reference is None or reference.image_id is None:
            return False
        if comparisons.exists(image_id, reference.image_id, model_version):
            return False
        today = AnglePhoto(images.working_pixels(image))
    except FileNotFoundError:
        return False
    finally:
        # No snapshot held open while the CPU works.
        db.session.rollback()
    taken_up = registered is not None and registered.reference_id == reference.image_id
    compared = _compared(today, reference, registered.alignment if taken_up else None)
    try:
        comparisons.keep(image_id, reference.image_id, model_version, compared, owner)
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        return False
    return True


def analyse_regions(
    session_id: uuid.UUID,
    user_id: uuid.UUID,
    photos: dict[str, list[AnglePhoto]],
    baseline_id: uuid.UUID | None,
    previous_ids: dict[str, uuid.UUID],
    model_version: str,
    best_ids: dict[str, uuid.UUID],
) -> dict[str, AngleFound]:
    """Compare each angle's best photo (first in its list; `best_ids` names it) with the baseline's, cell by cell
    (as compared when it arrived, or now), and record every cell
    change; two photos of one angle measure this session's own noise (a cell's floor is at least SESSION_MARGIN
    times the change between them, and says so). A cell above its floor that
    was not above it in the previous session (another session than the baseline, compared with the same baseline
    in the same frame) differs since the last session; one that was, since the baseline."""
    angles = sorted(photos)
    samples = store.samples(user_id, session_id, angles, FLOOR_SAMPLES)
    rows: list[dict] = []

    def record(angle: str, reference: str, cell: compare.Cell, exceeds: bool) -> None:
        rows.append(
            {
                "session_id": session_id, "user_id": user_id, "angle": angle, "reference": reference,
                "row": cell.row, "col": cell.col, "change": round(cell.change, 4), "exceeds": exceeds,
            }
        )  # fmt: skip

    # Two photos of an angle: the change between them is this session's own capture noise, cell by cell.
    within: dict[tuple, float] = {}
    for angle, shots in photos.items():
        if len(shots) >= 2:
            best, second = shots[0], shots[1]
            alignment = registration.align(second.working, best.working)
            if not alignment.ok:
                continue
            for cell in compare.compare(second.working, best.working, alignment).cells:
                within[angle, cell.row, cell.col] = cell.change
                record(angle, store.WITHIN, cell, False)

    found: dict[str, AngleFound] = {}
    baselines = {} if baseline_id is None else _baseline_angles(baseline_id, model_version, angles, user_id)
    earlier: dict[uuid.UUID, set] = {}
    compared = _compare_all(photos, baselines, _kept(best_ids, baselines, model_version, user_id))
    for angle in sorted(compared):
        alignment, baseline_cells = compared[angle].alignment, compared[angle].cells
        previous_id = previous_ids.get(angle)
        was_above = None
        if previous_id is not None and previous_id != baseline_id:
            was_above = earlier.setdefault(previous_id, store.exceeded(previous_id))
        reports = []
        for cell in baseline_cells:
            key = (angle, cell.row, cell.col)
            floor = cell_floor(samples.get(key, []), within.get(key))
            # An unregistered view is compared unaligned: its cells cannot tell a change from the pose, so none
            # is flagged (and none teaches the floor); the result says the view was taken from another position.
            exceeds = alignment.ok and cell.change > floor.value
            if alignment.ok:
                record(angle, store.BASELINE, cell, exceeds)
            since_last = exceeds and was_above is not None and key not in was_above
            reports.append(
                RegionReport(
                    row=cell.row, col=cell.col, bbox=tuple(round(v, 4) for v in cell.bbox),
                    change=round(cell.change, 4), noise_floor=round(floor.value, 4), exceeds_noise_floor=exceeds,
                    reference="previous" if since_last else "baseline", floor_source=floor.source,
                )
            )  # fmt: skip
        regions = AngleRegions(alignment_report(alignment, compared[angle].frame), reports)
        found[angle] = AngleFound(regions, compared[angle].vector, compared[angle].cell_vectors)
    store.replace(session_id, rows)
    # Read once: a re-analysis computes what it needs again.
    comparisons.forget_session(session_id)
    return found
