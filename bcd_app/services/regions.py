"""Where an angle changed: today's photo of each angle is registered onto the baseline's, compared cell by
cell, weighed against the user's noise floor there, and recorded."""

import logging
import uuid

from ..models import RegionChange
from ..schemas.analysis import AlignmentReport, RegionReport
from ..scoring.noise_floor import noise_floor
from ..scoring.result import AngleRegions
from ..store import images
from ..store import regions as store
from ..vision import preprocessing, registration
from ..vision import regions as compare
from ..vision.regions import AnglePhoto

log = logging.getLogger(__name__)
# Samples of each cell the floor learns from: the newest this many.
FLOOR_SAMPLES = 20


def _reference_photos(baseline_id: uuid.UUID, model_version: str, angles: list[str]) -> dict:
    """angle -> (small copy, cell vectors or None) of the baseline's best photo of that angle."""
    found = {}
    for angle, cells, region_copy in store.references(baseline_id, model_version, angles):
        if region_copy is not None:
            pixels = preprocessing.decode_working(region_copy)
        else:
            # A baseline analysed before regions were kept: its best photo, at working size, once more.
            best = images.best(baseline_id, angle)
            try:
                working = images.normalised_working(best).pixels if best else None
            except FileNotFoundError:
                working = None
            if working is None:
                log.warning("baseline image missing; angle compared without regions", extra={"angle": angle})
                continue
            pixels = AnglePhoto.of(working, None).pixels
        found[angle] = (pixels, None if cells is None else compare.decode_cells(cells))
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


def analyse_regions(
    session_id: uuid.UUID,
    user_id: uuid.UUID,
    photos: dict[str, list[AnglePhoto]],
    baseline_id: uuid.UUID | None,
    model_version: str,
) -> dict[str, AngleRegions]:
    """Compare each angle's best photo (first in its list) with the baseline's, cell by cell, and record every
    cell change; two photos of one angle also give a within-session sample of the noise."""
    angles = sorted(photos)
    samples = store.quiet_samples(user_id, session_id, angles, FLOOR_SAMPLES)
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
            within = compare.compare(
                second.pixels, best.pixels, registration.align(second.pixels, best.pixels),
                second.feature_map, best.cells(),
            )  # fmt: skip
            for cell in within:
                samples.setdefault((angle, cell.row, cell.col), []).append(cell.change)
                record(angle, store.WITHIN, cell, False)

    found: dict[str, AngleRegions] = {}
    references = {} if baseline_id is None else _reference_photos(baseline_id, model_version, angles)
    for angle, (reference, reference_cells) in references.items():
        today = photos[angle][0]
        alignment = registration.align(today.pixels, reference)
        reports = []
        for cell in compare.compare(today.pixels, reference, alignment, today.feature_map, reference_cells):
            floor = noise_floor(samples.get((angle, cell.row, cell.col), []))
            exceeds = cell.change > floor
            record(angle, store.BASELINE, cell, exceeds)
            reports.append(
                RegionReport(
                    row=cell.row, col=cell.col, bbox=tuple(round(v, 4) for v in cell.bbox),
                    change=round(cell.change, 4), noise_floor=round(floor, 4), exceeds_noise_floor=exceeds,
                )
            )  # fmt: skip
        found[angle] = AngleRegions(alignment_report(alignment, reference.shape[:2]), reports)
    store.replace(session_id, rows)
    return found
