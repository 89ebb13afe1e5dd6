"""A photo's model output as taken, where the symmetry score reads it (a left view's vector, a right view's
mirrored vector: one forward pass each); and the vector and last feature map of a photo as the comparisons see it."""

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
    """One photo's model output: unit vector (None where it is not needed), mirrored unit vector (right views only),
    feature map (None where it is not needed, or for a model that gives vectors only)."""

    vector: np.ndarray | None
    mirrored: np.ndarray | None
    feature_map: np.ndarray | None


def compute(normalised: np.ndarray, angle: str) -> Features:
    """The model's output of a brightness-normalised working copy of a photo as taken, for the symmetry score, one
    forward pass: a left view's vector, a right view's mirrored vector (how it would look as a left view). The
    comparisons read every angle through the photo brought onto the baseline (`plain`); other angles need nothing
    here (`needs_own_output`)."""
    if not needs_own_output(angle):
        raise ValueError(f"the symmetry score reads no output of a {angle} view")
    model_input = preprocessing.model_input(normalised)[None]
    if angle == MIRROR_PAIR[1]:
        # The width axis of CHW flipped.
        return Features(None, embedder.embed(model_input[:, :, :, ::-1]).vectors[0], None)
    return Features(embedder.embed(model_input).vectors[0], None, None)


def needs_own_output(angle: str) -> bool:
    """Whether a photo of `angle` needs its output as taken (the symmetry score's left and right views)."""
    return angle in MIRROR_PAIR


def plain(normalised: np.ndarray) -> Features:
    """The model's unit vector and feature map of a brightness-normalised working copy as the comparisons see
    it (blurred by COMPARED_BLUR; no mirrored vector)."""
    blurred = cv2.GaussianBlur(normalised, (0, 0), COMPARED_BLUR)
    output = embedder.embed(preprocessing.model_input(blurred)[None])
    return Features(output.vectors[0], None, None if output.maps is None else output.maps[0])
