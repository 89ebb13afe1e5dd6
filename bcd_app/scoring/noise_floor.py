"""A cell's noise floor: how much it varies between the user's own photos when nothing changed."""

import numpy as np

# The noise floor (colour-difference units) of a cell until the user has history: above every re-capture
# cell of bench/trust_eval.py's set (max 2.8 over 540 cells), so a new user sees few false flags.
PRIOR_FLOOR = 3.0
# Pseudo-samples the prior weighs as, against the user's own samples (median + 3 MADs of them).
PRIOR_WEIGHT = 5
MAD_FACTOR = 3.0
# Never below this, however steady a user's history (JPEG and sensor noise alone reach it), and never above
# twice the prior, so quiet samples that creep upward cannot hide a change for good.
MIN_FLOOR = 1.5
MAX_FLOOR = 2 * PRIOR_FLOOR


def noise_floor(samples: list[float]) -> float:
    """A cell's floor from the user's own quiet samples of it (robust: median + 3 scaled MADs), shrunk
    toward the re-capture prior while they are few."""
    if not samples:
        return PRIOR_FLOOR
    values = np.asarray(samples, dtype=np.float64)
    median = float(np.median(values))
    spread = 1.4826 * float(np.median(np.abs(values - median)))
    learned = median + MAD_FACTOR * max(spread, 0.1 * median)
    blended = (PRIOR_WEIGHT * PRIOR_FLOOR + values.size * learned) / (PRIOR_WEIGHT + values.size)
    return float(np.clip(blended, MIN_FLOOR, MAX_FLOOR))
