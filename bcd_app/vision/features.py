"""A photo's model output: its unit vector, a right view's mirrored vector (for symmetry) and the last feature
map the region comparison pools per cell, from one forward pass per photo."""

from dataclasses import dataclass

import cv2
import numpy as np

from ..constants import MIRROR_PAIR
from . import preprocessing
from .embeddings import embedder

HALF_MAX = float(np.finfo(np.float16).max)
# Every photo whose vector is compared is given to the model blurred alike (px at the working size): a re-taken
# photo is resampled onto the baseline and may come from another phone's JPEG, and the model reads those fine
# differences as content on textured skin (bench/trust_eval.py, held-out gravel: distances up to 0.19 without,
# 0.11 with; other photos below 0.03).
COMPARED_BLUR = 1.6


@dataclass(frozen=True)
class Features:
    """One photo's model output: unit vector, mirrored unit vector (right views only), feature map (float16;
    None for a model that gives vectors only)."""

    vector: np.ndarray
    mirrored: np.ndarray | None
    feature_map: np.ndarray | None


def compute(normalised: np.ndarray, angle: str) -> Features:
    """The model's output for a brightness-normalised working copy of a photo of `angle`."""
    model_input = preprocessing.model_input(normalised)[None]
    own = embedder.embed(model_input)
    # The right view mirrored (width axis of CHW flipped): how it would look as a left view.
    mirrored = embedder.embed(model_input[:, :, :, ::-1]).vectors[0] if angle == MIRROR_PAIR[1] else None
    # Kept at half precision: the cells pooled from it agree with full precision to ~1e-4 (a deployer's model
    # with values beyond half precision's range is clipped there rather than turned into infinities).
    feature_map = None if own.maps is None else np.clip(own.maps[0], -HALF_MAX, HALF_MAX).astype(np.float16)
    return Features(own.vectors[0], mirrored, feature_map)


def plain(normalised: np.ndarray) -> Features:
    """The model's unit vector and feature map of a brightness-normalised working copy as the comparisons see
    it (blurred by COMPARED_BLUR; no mirrored vector)."""
    blurred = cv2.GaussianBlur(normalised, (0, 0), COMPARED_BLUR)
    output = embedder.embed(preprocessing.model_input(blurred)[None])
    return Features(output.vectors[0], None, None if output.maps is None else output.maps[0])


def decode_feature_map(data: bytes, channels: int) -> np.ndarray:
    """A kept feature map (float16 bytes of channels x side x side) as an array."""
    flat = np.frombuffer(data, dtype=np.float16)
    side = round((flat.size / channels) ** 0.5)
    return flat.reshape(channels, side, side)
