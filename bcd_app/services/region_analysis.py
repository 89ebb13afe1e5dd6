"""Where an angle changed: today's photo of each angle is registered onto the baseline's, compared cell by
cell, weighed against the user's noise floor there, stored, and worded as neutral insights."""

import logging
import uuid
from dataclasses import dataclass

import numpy as np
from sqlalchemy import delete, text

from ..constants import REGION_CELLS
from ..extensions import db
from ..models import RegionChange
from ..schemas.analysis import AlignmentReport, AngleResult, RegionReport
from . import images, preprocessing, regions, registration

log = logging.getLogger(__name__)
# Samples of each cell the floor learns from: the newest this many.
FLOOR_SAMPLES = 20
BASELINE, WITHIN = "baseline", "within"
# At most this many places are worded per angle, the furthest above the floor first.
INSIGHTS_PER_ANGLE = 2

_REFERENCES_SQL = text(
    """
    SELECT e.angle, e.cells, e.region_copy
    FROM angle_embeddings e
    WHERE e.session_id = :baseline_id AND e.model_version = :model_version AND e.angle = ANY(:angles)
    """
)
# A cell's quiet samples: within-session spreads, and comparisons that stayed under the floor.
_SAMPLES_SQL = text(
    """
    SELECT angle, row, col, change FROM (
        SELECT angle, row, col, change,
               row_number() OVER (PARTITION BY angle, row, col ORDER BY created_at DESC, id DESC) AS recency
        FROM region_changes
        WHERE user_id = :user_id AND session_id <> :session_id AND angle = ANY(:angles)
          AND (reference = :within OR NOT exceeds)
    ) recent WHERE recency <= :keep
    """
)


@dataclass(frozen=True)
class AnglePhoto:
    """One photo of today's session as the region comparison needs it: its small copy and its feature map."""

    pixels: np.ndarray
    feature_map: np.ndarray | None

    @classmethod
    def of(cls, working: np.ndarray, feature_map: np.ndarray | None) -> "AnglePhoto":
        """From the analysis's brightness-normalised working copy."""
        return cls(registration.shrink(working, regions.REGION_SIZE)[0], feature_map)

    def cells(self) -> np.ndarray | None:
        """This photo's own cell vectors (what later sessions compare with)."""
        return None if self.feature_map is None else regions.own_cells(self.feature_map, self.pixels.shape[:2])

    def stored(self) -> tuple[bytes | None, bytes]:
        """What is kept for later sessions: the cell vectors (float16 bytes) and the small copy (as working copies
        are kept)."""
        cells = self.cells()
        return (None if cells is None else cells.astype(np.float16).tobytes()), preprocessing.encode_working(
            self.pixels
        )


@dataclass(frozen=True)
class AngleRegions:
    """An angle's region comparison with the baseline."""

    alignment: AlignmentReport
    regions: list[RegionReport]

    @property
    def exceeds(self) -> bool:
        """Whether any cell is above the user's noise floor."""
        return any(region.exceeds_noise_floor for region in self.regions)


def _reference_photos(baseline_id: uuid.UUID, model_version: str, angles: list[str], upload_dir: str) -> dict:
    """angle -> (small copy, cell vectors or None) of the baseline's best photo of that angle."""
    found = {}
    rows = db.session.execute(
        _REFERENCES_SQL, {"baseline_id": baseline_id, "model_version": model_version, "angles": angles}
    )
    for angle, cells, region_copy in rows:
        if region_copy is not None:
            pixels = preprocessing.decode_working(region_copy)
        else:
            # A baseline analysed before regions were kept: its best photo, at working size, once more.
            best = images.best_image(baseline_id, angle)
            try:
                working = images.normalised_working(upload_dir, best).pixels if best else None
            except FileNotFoundError:
                working = None
            if working is None:
                log.warning("baseline image missing; angle compared without regions", extra={"angle": angle})
                continue
            pixels = AnglePhoto.of(working, None).pixels
        vectors = (
            None if cells is None else np.frombuffer(cells, np.float16).astype(np.float32).reshape(REGION_CELLS, -1)
        )
        found[angle] = (pixels, vectors)
    return found


def _quiet_samples(user_id: uuid.UUID, session_id: uuid.UUID, angles: list[str]) -> dict:
    samples: dict[tuple, list[float]] = {}
    rows = db.session.execute(
        _SAMPLES_SQL,
        {"user_id": user_id, "session_id": session_id, "angles": angles, "within": WITHIN, "keep": FLOOR_SAMPLES},
    )
    for angle, row, col, change in rows:
        samples.setdefault((angle, row, col), []).append(change)
    return samples


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
    upload_dir: str,
) -> dict[str, AngleRegions]:
    """Compare each angle's best photo (first in its list) with the baseline's, cell by cell, and store every
    cell change; two photos of one angle also give a within-session sample of the noise."""
    db.session.execute(delete(RegionChange).where(RegionChange.session_id == session_id))
    angles = sorted(photos)
    samples = _quiet_samples(user_id, session_id, angles)
    rows: list[RegionChange] = []

    def record(angle: str, reference: str, cell: regions.Cell, exceeds: bool) -> None:
        rows.append(
            RegionChange(
                session_id=session_id, user_id=user_id, angle=angle, reference=reference,
                row=cell.row, col=cell.col, change=round(cell.change, 4), exceeds=exceeds,
            )
        )  # fmt: skip

    for angle, shots in photos.items():
        if len(shots) >= 2:
            best, second = shots[0], shots[1]
            within = regions.compare(
                second.pixels, best.pixels, registration.align(second.pixels, best.pixels),
                second.feature_map, best.cells(),
            )  # fmt: skip
            for cell in within:
                samples.setdefault((angle, cell.row, cell.col), []).append(cell.change)
                record(angle, WITHIN, cell, False)

    found: dict[str, AngleRegions] = {}
    references = {} if baseline_id is None else _reference_photos(baseline_id, model_version, angles, upload_dir)
    for angle, (reference, reference_cells) in references.items():
        today = photos[angle][0]
        alignment = registration.align(today.pixels, reference)
        reports = []
        for cell in regions.compare(today.pixels, reference, alignment, today.feature_map, reference_cells):
            floor = regions.noise_floor(samples.get((angle, cell.row, cell.col), []))
            exceeds = cell.change > floor
            record(angle, BASELINE, cell, exceeds)
            reports.append(
                RegionReport(
                    row=cell.row, col=cell.col, bbox=tuple(round(v, 4) for v in cell.bbox),
                    change=round(cell.change, 4), noise_floor=round(floor, 4), exceeds_noise_floor=exceeds,
                )
            )  # fmt: skip
        found[angle] = AngleRegions(alignment_report(alignment, reference.shape[:2]), reports)
    db.session.add_all(rows)
    return found


def insights(per_angle: list[AngleResult]) -> list[str]:
    """One neutral sentence per place above the user's noise floor, in registered views; none when nothing is."""
    sentences = []
    for angle in per_angle:
        if angle.alignment is None or not angle.alignment.ok:
            continue
        above = sorted(
            (r for r in angle.regions if r.exceeds_noise_floor), key=lambda r: r.change / r.noise_floor, reverse=True
        )
        for region in above[:INSIGHTS_PER_ANGLE]:
            sentences.append(
                f"The {regions.place_words(region.row, region.col)} of the {angle.angle_type} view differs more "
                "than the rest of that view since your baseline."
            )
    return sentences
