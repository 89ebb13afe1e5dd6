"""A cell's noise floor: how far its change may go when only the way the photo was taken changed, for this user.

The prior is chosen by a max-statistic calibration (bench/trust_eval.py --calibrate, the home capture model, the
calibration half of the photos): the largest cell change of a re-taken view, read over many views, at the level
that keeps a re-taken session of six views free of any flag 95% of the time. A user's own samples of a cell (every
recorded change of it: within a session, against the baseline, against the previous session) scale it by how
their typical change compares with the prior's: the median, so a real change, rare, is outvoted rather than left
out for good."""

import numpy as np

# Cell changes are in noise units (vision/regions.py). Calibration half, 60 re-taken views: the level for at most
# 5% of six-view sessions with a flag is 1.34 and the largest view maximum 1.46; the prior is that maximum plus
# 10%, for the views the calibration did not see.
PRIOR_FLOOR = 1.6
# The typical (median) cell change of a re-taken view under the home capture model (0.361 there).
PRIOR_MEDIAN = 0.36
# Pseudo-samples the prior weighs as, against the user's own.
PRIOR_WEIGHT = 5
# However steady a user's photos, the floor keeps this share of the prior: another phone alone (resolution and
# JPEG, same light and pose) reaches 0.60 in 99% of views, 0.38 of the prior; a user whose samples say less than
# that has been lucky, not precise. There is no upper bound: a user whose photos vary more gets a higher floor.
MIN_SCALE = 0.4


def noise_floor(samples: list[float]) -> float:
    """A cell's floor from the user's samples of it: the prior, scaled by their median against the prior's
    median, shrunk toward the prior while the samples are few."""
    if not samples:
        return PRIOR_FLOOR
    ratio = float(np.median(samples)) / PRIOR_MEDIAN
    scale = (PRIOR_WEIGHT + len(samples) * ratio) / (PRIOR_WEIGHT + len(samples))
    return PRIOR_FLOOR * max(scale, MIN_SCALE)
