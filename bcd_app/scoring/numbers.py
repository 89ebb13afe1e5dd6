"""How scores are rounded and weighed, the same everywhere."""

import numpy as np

# A weight (a confidence or an angle's quality) never counts for less than this: a shaky photo counts less,
# never not at all.
MIN_WEIGHT = 0.05


def rounded(value: float | None) -> float | None:
    """A score as results report it: four decimals; None stays None."""
    return None if value is None else round(float(value), 4)


def weighted_mean(values: list[float], weights: list[float]) -> float:
    """Mean of `values` weighted by `weights`, each at least MIN_WEIGHT."""
    return float(np.average(values, weights=[max(weight, MIN_WEIGHT) for weight in weights]))
