"""A photo's model output: its unit vector and a right view's mirrored vector (the symmetry score), from one
forward pass per photo; and the vector and last feature map of a photo as the comparisons see it."""

from dataclasses import dataclass

import cv2
import numpy as np

from ..constants import MIRROR_PAIR
from . import preprocessing
from .embeddings import embedder

# Every photo whose vector is compared is given to the model blurred alike (px at the working size): a re-taken
# photo is resampled onto the baseline and may come from another phone's JPEG, and the model reads those fine
# differences as content on textured skin (bench/trust_eval.py, held-out gravel: distances up to 0.19 without,
# 0.11 with; other photos below 0.03).
COMPARED_BLUR = 1.6


@dataclass(frozen=True)
class Features:
    """One photo's model output: unit vector, mirrored unit vector (right views only), feature map (None where it
    is not needed, or for a model that gives vectors only)."""

    vector: np.ndarray
    mirrored: np.ndarray | None
    feature_map: np.ndarray | None


def compute(normalised: np.ndarray, angle: str) -> Features:
    """The model's vectors for a brightness-normalised working copy of a photo of `angle` (no feature map: the
    comparisons pool theirs from the photo brought onto the baseline)."""
    model_input = preprocessing.model_input(normalised)[None]
    own = embedder.embed(model_input)
    # The right view mirrored (width axis of CHW flipped): how it would look as a left view.
    mirrored = embedder.embed(model_input[:, :, :, ::-1]).vectors[0] if angle == MIRROR_PAIR[1] else None
    return Features(own.vectors[0], mirrored, None)


def plain(normalised: np.ndarray) -> Features:
    """The model's unit vector and feature map of a brightness-normalised working copy as the comparisons see
    it (blurred by COMPARED_BLUR; no mirrored vector)."""
    blurred = cv2.GaussianBlur(normalised, (0, 0), COMPARED_BLUR)
    output = embedder.embed(preprocessing.model_input(blurred)[None])
    return Features(output.vectors[0], None, None if output.maps is None else output.maps[0])
