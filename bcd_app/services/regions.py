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

from ..models import RegionChange
from ..schemas.analysis import AlignmentReport, RegionReport
from ..scoring.noise_floor import noise_floor
from ..scoring.result import AngleRegions
from ..store import images
from ..store import regions as store
from ..vision import preprocessing, registration
from ..vision import regions as compare
from ..vision.features import Features, plain
from ..vision.regions import AnglePhoto

log = logging.getLogger(__name__)
# Samples of each cell the floor learns from: the newest this many.
FLOOR_SAMPLES = 30


@dataclass(frozen=True)
class Reference:
    """An earlier session's best photo of an angle (working copy as shot) and its cell vectors."""

    pixels: np.ndarray
    cells: np.ndarray | None


@dataclass(frozen=True)
class AngleFound:
    """An angle's region comparison, and the model's output for today's best photo brought onto the baseline
    (None when it could not be registered)."""

    regions: AngleRegions
    canonical: Features | None


# Angles compared at once (see _compare_all).
PARALLEL_ANGLES = min(2, os.cpu_count() or 1)


def _references(session_id: uuid.UUID, model_version: str, angles: list[str], owner: uuid.UUID) -> dict[str, Reference]:
    """angle -> the session's best photo of it: its working copy, or the small copy kept with its vectors when the
    photo cannot be read."""
    found = {}
    for angle, cells, region_copy in store.references(session_id, model_version, angles, owner):
        best = images.best(session_id, angle)
        try:
            pixels = images.working_pixels(best) if best else None
        except FileNotFoundError:
            pixels = None
        if pixels is None and region_copy is not None:
            pixels = preprocessing.decode_working(region_copy)
        if pixels is None:
            log.warning("reference image missing; angle compared without regions", extra={"angle": angle})
            continue
        found[angle] = Reference(pixels, None if cells is None else compare.decode_cells(cells))
    return found


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


def _against(today: AnglePhoto, reference: Reference) -> tuple[registration.Alignment, compare.Comparison]:
    alignment = registration.align(today.working, reference.pixels)
    return alignment, compare.compare(today.working, reference.pixels, alignment)


def _brought(
    alignment: registration.Alignment, comparison: compare.Comparison, reference: Reference
) -> tuple[list[compare.Cell], Features | None]:
    """One forward pass over today's photo brought onto the baseline: the cells with the model's evidence, and
    the output the comparison layers use. Unregistered, neither: the photo as taken stands."""
    if not alignment.ok:
        return comparison.cells, None
    features = plain(preprocessing.normalise_brightness(comparison.canonical).pixels)
    cells = comparison.cells
    if features.feature_map is not None and reference.cells is not None:
        cells = compare.with_semantic(cells, features.feature_map, reference.cells, reference.pixels.shape[:2])
    return cells, features


def _compare_all(
    photos: dict[str, list[AnglePhoto]], baselines: dict[str, Reference]
) -> dict[str, tuple[registration.Alignment, list[compare.Cell], Features | None]]:
    """Each angle's best photo against the baseline's: registered, compared and brought through the model, two
    angles at a time. The work is OpenCV and one-thread torch, which both release the GIL, so an idle second core
    halves the stage; no database access happens here."""

    def one(angle: str) -> tuple[registration.Alignment, list[compare.Cell], Features | None]:
        alignment, comparison = _against(photos[angle][0], baselines[angle])
        return (alignment, *_brought(alignment, comparison, baselines[angle]))

    with ThreadPoolExecutor(PARALLEL_ANGLES) as pool:
        return dict(zip(baselines, pool.map(one, baselines), strict=True))


def analyse_regions(
    session_id: uuid.UUID,
    user_id: uuid.UUID,
    photos: dict[str, list[AnglePhoto]],
    baseline_id: uuid.UUID | None,
    previous_ids: dict[str, uuid.UUID],
    model_version: str,
) -> dict[str, AngleFound]:
    """Compare each angle's best photo (first in its list) with the baseline's, cell by cell, and record every cell
    change; two photos of one angle also give a within-session sample of the noise. A cell above its floor that
    was not above it in the previous session (another session than the baseline, compared with the same baseline
    in the same frame) differs since the last session; one that was, since the baseline."""
    angles = sorted(photos)
    samples = store.samples(user_id, session_id, angles, FLOOR_SAMPLES)
    rows: list[RegionChange] = []

    def record(angle: str, reference: str, cell: compare.Cell, exceeds: bool) -> None:
        rows.append(
            RegionChange(
                session_id=session_id, user_id=user_id, angle=angle, reference=reference,
                row=cell.row, col=cell.col, change=round(cell.change, 4), exceeds=exceeds,
            )
        )  # fmt: skip

    for angle, shots in photos.items():
        if len(shots) >= 2:
            best, second = shots[0], shots[1]
            within = compare.compare(second.working, best.working, registration.align(second.working, best.working))
            for cell in within.cells:
                samples.setdefault((angle, cell.row, cell.col), []).append(cell.change)
                record(angle, store.WITHIN, cell, False)

    found: dict[str, AngleFound] = {}
    baselines = {} if baseline_id is None else _references(baseline_id, model_version, angles, user_id)
    earlier: dict[uuid.UUID, set] = {}
    compared = _compare_all(photos, baselines)
    for angle, reference in baselines.items():
        alignment, baseline_cells, canonical = compared[angle]
        previous_id = previous_ids.get(angle)
        was_above = None
        if previous_id is not None and previous_id != baseline_id:
            was_above = earlier.setdefault(previous_id, store.exceeded(previous_id))
        reports = []
        for cell in baseline_cells:
            floor = noise_floor(samples.get((angle, cell.row, cell.col), []))
            # An unregistered view is compared unaligned: its cells cannot tell a change from the pose, so none
            # is flagged (and none teaches the floor); the result says the view was taken from another position.
            exceeds = alignment.ok and cell.change > floor
            if alignment.ok:
                record(angle, store.BASELINE, cell, exceeds)
            since_last = exceeds and was_above is not None and (angle, cell.row, cell.col) not in was_above
            reports.append(
                RegionReport(
                    row=cell.row, col=cell.col, bbox=tuple(round(v, 4) for v in cell.bbox),
                    change=round(cell.change, 4), noise_floor=round(floor, 4), exceeds_noise_floor=exceeds,
                    reference="previous" if since_last else "baseline",
                )
            )  # fmt: skip
        regions = AngleRegions(alignment_report(alignment, reference.pixels.shape[:2]), reports)
        found[angle] = AngleFound(regions, canonical)
    store.replace(session_id, rows)
    return found
