"""Registration of one photo onto an earlier photo of the same angle: ORB features + RANSAC similarity,
refined by ECC, so regions are compared where they really overlap."""

from dataclasses import dataclass

import cv2
import numpy as np

# Registration runs on grey copies with this longer side (px): enough texture for features, cheap to match.
REGISTRATION_SIZE = 128
ORB_FEATURES = 250
# Lowe's ratio test: a match must be clearly better than the second best.
MATCH_RATIO = 0.8
MIN_INLIERS = 12
RANSAC_THRESHOLD_PX = 3.0
# A pose this far from the reference is another framing, not a re-capture: compare with care.
MAX_ROTATION_DEG = 15.0
SCALE_RANGE = (0.8, 1.25)
MAX_SHIFT_FRACTION = 0.2
# ECC refinement: iterations and the convergence step, and the smoothing that widens its basin.
ECC_ITERATIONS = 12
ECC_EPSILON = 1e-4
ECC_GAUSS = 5


@dataclass(frozen=True)
class Alignment:
    """How today's photo maps onto the reference: a 2x3 similarity in reference working-image pixels."""

    ok: bool
    method: str
    inliers: int
    residual_px: float | None
    matrix: np.ndarray

    @property
    def scale(self) -> float:
        """Isotropic scale of the map."""
        return float(np.hypot(self.matrix[0, 0], self.matrix[1, 0]))

    @property
    def rotation_deg(self) -> float:
        """Rotation of the map, degrees (counter-clockwise in image coordinates)."""
        return float(np.degrees(np.arctan2(self.matrix[1, 0], self.matrix[0, 0])))

    @property
    def shift(self) -> tuple[float, float]:
        """Translation of the map, px of the reference working image."""
        return float(self.matrix[0, 2]), float(self.matrix[1, 2])


IDENTITY = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])


def shrink(pixels: np.ndarray, size: int) -> tuple[np.ndarray, float]:
    """A copy about `size` px on its longer side, by a whole-number factor (OpenCV's fast area path), and
    the factor applied."""
    step = max(1, round(max(pixels.shape[:2]) / size))
    if step == 1:
        return pixels, 1.0
    return cv2.resize(pixels, None, fx=1 / step, fy=1 / step, interpolation=cv2.INTER_AREA), 1 / step


def _grey_small(pixels: np.ndarray) -> tuple[np.ndarray, float]:
    small, factor = shrink(pixels, REGISTRATION_SIZE)
    return (cv2.cvtColor(small, cv2.COLOR_RGB2GRAY) if small.ndim == 3 else small), factor


def _features(grey: np.ndarray) -> tuple[list, np.ndarray | None]:
    return cv2.ORB_create(nfeatures=ORB_FEATURES, fastThreshold=10).detectAndCompute(grey, None)


def _feature_match(moving: np.ndarray, reference: np.ndarray) -> tuple[np.ndarray | None, int, float | None]:
    """Similarity from ORB matches with RANSAC, or None when the photos share too few features."""
    kp_m, des_m = _features(moving)
    kp_r, des_r = _features(reference)
    if des_m is None or des_r is None or len(kp_m) < MIN_INLIERS or len(kp_r) < MIN_INLIERS:
        return None, 0, None
    pairs = cv2.BFMatcher(cv2.NORM_HAMMING).knnMatch(des_m, des_r, k=2)
    good = [p[0] for p in pairs if len(p) == 2 and p[0].distance < MATCH_RATIO * p[1].distance]
    if len(good) < MIN_INLIERS:
        return None, len(good), None
    src = np.float32([kp_m[m.queryIdx].pt for m in good])
    dst = np.float32([kp_r[m.trainIdx].pt for m in good])
    matrix, mask = cv2.estimateAffinePartial2D(
        src, dst, method=cv2.RANSAC, ransacReprojThreshold=RANSAC_THRESHOLD_PX, maxIters=2000, refineIters=20
    )
    if matrix is None:
        return None, 0, None
    inliers = mask.ravel().astype(bool)
    if inliers.sum() < MIN_INLIERS:
        return None, int(inliers.sum()), None
    projected = src[inliers] @ matrix[:, :2].T + matrix[:, 2]
    residual = float(np.median(np.linalg.norm(projected - dst[inliers], axis=1)))
    return matrix, int(inliers.sum()), residual


def _ecc(moving: np.ndarray, reference: np.ndarray, start: np.ndarray) -> np.ndarray | None:
    """Refine a map by maximising the enhanced correlation coefficient (Evangelidis & Psarakis 2008)."""
    warp = start.astype(np.float32)
    criteria = (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, ECC_ITERATIONS, ECC_EPSILON)
    try:
        _, warp = cv2.findTransformECC(
            reference.astype(np.float32), moving.astype(np.float32), warp, cv2.MOTION_AFFINE, criteria, None, ECC_GAUSS
        )
    except cv2.error:
        return None
    # findTransformECC maps reference -> moving; we keep moving -> reference.
    return cv2.invertAffineTransform(warp)


def _plausible(matrix: np.ndarray, shape: tuple[int, int]) -> bool:
    candidate = Alignment(True, "", 0, None, matrix)
    shift_limit = MAX_SHIFT_FRACTION * max(shape)
    return (
        SCALE_RANGE[0] <= candidate.scale <= SCALE_RANGE[1]
        and abs(candidate.rotation_deg) <= MAX_ROTATION_DEG
        and max(abs(v) for v in candidate.shift) <= shift_limit
    )


def rescaled(matrix: np.ndarray, moving_factor: float, reference_factor: float) -> np.ndarray:
    """A map between two images expressed between copies of them resized by these factors."""
    out = matrix.astype(np.float64).copy()
    out[:, :2] *= reference_factor / moving_factor
    out[:, 2] *= reference_factor
    return out


def align(moving: np.ndarray, reference: np.ndarray) -> Alignment:
    """Map `moving` (today's working image) onto `reference` (the earlier one). Never raises on a featureless
    or unrelated photo: it answers ok=False with the identity, and the comparison falls back to unaligned."""
    small_m, factor_m = _grey_small(moving)
    small_r, factor_r = _grey_small(reference)
    found, inliers, residual = _feature_match(small_m, small_r)
    method = "orb+ransac"
    if found is None:
        method = "ecc"
        # Same-size copies only: ECC compares pixel grids.
        start = np.float32([[factor_r / factor_m, 0, 0], [0, factor_r / factor_m, 0]])
        found = None if small_m.std() < 1.0 or small_r.std() < 1.0 else _ecc(small_m, small_r, start)
    else:
        refined = _ecc(small_m, small_r, cv2.invertAffineTransform(found))
        if refined is not None and _plausible(refined, small_r.shape):
            found, method = refined, "orb+ransac+ecc"
    if found is None or not _plausible(found, small_r.shape):
        return Alignment(False, "none" if found is None else method, inliers, residual, IDENTITY.copy())
    matrix = rescaled(found, 1.0 / factor_m, 1.0 / factor_r)
    return Alignment(True, method, inliers, None if residual is None else residual / factor_r, matrix)


def warp_to(moving: np.ndarray, alignment: Alignment, shape: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """`moving` resampled into the reference frame, and the mask of reference pixels it covers."""
    height, width = shape
    warped = cv2.warpAffine(moving, alignment.matrix, (width, height), flags=cv2.INTER_LINEAR)
    coverage = cv2.warpAffine(
        np.full(moving.shape[:2], 255, np.uint8), alignment.matrix, (width, height), flags=cv2.INTER_NEAREST
    )
    # Stay a few pixels inside the covered area: interpolation blends the border with black.
    mask = cv2.erode(coverage, np.ones((5, 5), np.uint8)) > 0
    return warped, mask
