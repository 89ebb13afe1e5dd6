"""A cell's noise floor: how far its change may go when only the way the photo was taken changed, for this user.

The prior is the level of a max-statistic calibration (bench/trust_eval.py --calibrate, the home capture model, the
calibration half of the photos and of the phantom's people): the largest statistic of a re-taken view, read over
many views, at the level that keeps a re-taken session of six views free of any flag nine times in ten. A user's
own samples of a cell (every recorded change of it: within a session, against the baseline, against the previous
session) scale it by how their typical change compares with the prior's: the median, so a real change, rare, is
outvoted rather than left out for good."""

from dataclasses import dataclass
from typing import Literal

import numpy as np

# Cell changes are in noise units (vision/change_scan.py): the calibration (calibration half, 72 quiet home re-takes
# of photos and phantom people) sets them so that this floor is the level a view's largest statistic passes in at
# most 1 - 0.9^(1/6) of quiet views, for at most one six-view session in ten with a flag.
PRIOR_FLOOR = 1.6
# The typical (median) cell change of a re-taken view under the home capture model (0.431 there).
PRIOR_MEDIAN = 0.43
# Pseudo-samples the prior weighs as, against the user's own.
PRIOR_WEIGHT = 5
# However steady a user's photos, the floor keeps this share of the prior: a user whose samples say less than that
# has been lucky, not precise (another phone alone, same light and pose, reached 0.38 of the prior in 99% of views
# under the comparison before the change map's scan).
MIN_SCALE = 0.4
# A user whose photos vary more gets a higher floor, but not above this many times the prior (from her history or
# her session): past it the changes people are told to look for would vanish under her floor (bench/trust_eval.py,
# users with a noisy history: home re-takes at twice the variation).
MAX_SCALE = 2.0
# Two photos of an angle in one session measure that session's capture noise cell by cell: today's change against
# the baseline must exceed this multiple of the change between them to count.
SESSION_MARGIN = 1.25

FloorSource = Literal["prior", "history", "session"]


@dataclass(frozen=True)
class Floor:
    """A cell's floor, and what it came from: the calibrated prior (a new user), her history of the cell, or this
    session's own two photos of the angle."""

    value: float
    source: FloorSource


def noise_floor(samples: list[float]) -> float:
    """A cell's floor from the user's samples of it: the prior, scaled by their median against the prior's
    median, shrunk toward the prior while the samples are few, kept within MIN_SCALE and MAX_SCALE of it."""
    if not samples:
        return PRIOR_FLOOR
    ratio = float(np.median(samples)) / PRIOR_MEDIAN
    scale = (PRIOR_WEIGHT + len(samples) * ratio) / (PRIOR_WEIGHT + len(samples))
    return PRIOR_FLOOR * min(max(scale, MIN_SCALE), MAX_SCALE)


def cell_floor(history: list[float], within: float | None) -> Floor:
    """A cell's floor for this session: learned from her history (or the prior), raised to SESSION_MARGIN times
    the change between this session's own two photos of the angle where that is higher (capped like the rest)."""
    learned = Floor(noise_floor(history), "history" if history else "prior")
    if within is None:
        return learned
    session = min(SESSION_MARGIN * within, MAX_SCALE * PRIOR_FLOOR)
    return Floor(session, "session") if session > learned.value else learned
