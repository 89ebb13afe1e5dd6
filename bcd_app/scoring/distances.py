"""Distances between vectors computed in Python: the same cosine distance pgvector computes."""

import numpy as np


def cosine_distance(a: np.ndarray, b: np.ndarray) -> float:
    """1 - cos(a, b) in float64, as pgvector's <=> computes it."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    return float(1.0 - a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


def to_means(means: dict[str, np.ndarray], vectors: dict[str, np.ndarray]) -> dict[str, float | None]:
    """angle -> distance of each vector to its angle's mean (None where there is no mean)."""
    return {
        angle: cosine_distance(means[angle], vector) if angle in means else None for angle, vector in vectors.items()
    }
