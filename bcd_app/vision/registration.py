"""Registration of one photo onto an earlier photo of the same angle: ORB features + RANSAC similarity, refined
by ECC to a homography (a phone turned or tilted is a perspective change); ECC alone, coarse to fine, where the
photos share too few features (smooth skin)."""

from dataclasses import dataclass

import cv2
import numpy as np

# Registration runs on grey copies with this longer side (px): enough texture for features, cheap to match.
REGISTRATION_SIZE = 128
ORB_FEATURES = 400
# Lowe's ratio test: a match must be clearly better than the second best.
MATCH_RATIO = 0.8
MIN_INLIERS = 12
RANSAC_THRESHOLD_PX = 3.0
# A pose this far from the reference is another framing, not a re-capture: compare with care.
MAX_ROTATION_DEG = 15.0
SCALE_RANGE = (0.8, 1.25)
MAX_SHIFT_FRACTION = 0.2
# Perspective terms (per px of the reference's longer side) beyond this are not a phone tilted a little.
MAX_PERSPECTIVE = 0.5
# ECC refinement: iterations and the convergence step, and the smoothing that widens its basin; the fallback
# starts at a quarter of the size.
ECC_ITERATIONS = 15
ECC_EPSILON = 1e-4
ECC_GAUSS = 5
ECC_COARSE_FACTOR = 0.5
# When neither ORB nor ECC from the unmoved frame registers a pair (smooth skin gives ORB little, and a turned or
# re-framed phone leaves ECC's basin), ECC starts again from a few poses: the shift phase correlation finds (and
# none), turned by these angles, scaled by these factors, on the grey copies and on their gradient magnitude (the
# outline, arms and areolas, whatever the lamp did); the plausible result that correlates best is kept.
RESTART_ANGLES_DEG = (0.0, -5.0, 5.0)
RESTART_SCALES = (1.0, 0.92, 1.08)
GRADIENT_SIGMA = 1.5
# A restart's result must correlate at least this well (over the overlap) to count as the same scene.
RESTART_MIN_CORRELATION = 0.3
# A working copy whose shorter side is below this (px) has too little of a frame to register (a strip, a thumbnail):
# it is compared unaligned, never warped through a map fitted on a few pixels.
MIN_REGISTRABLE_SIDE = 32


@dataclass(frozen=True)
class Alignment:
    """How today's photo maps onto the reference: a 3x3 homography in reference working-image pixels."""

    ok: bool
    method: str
    inliers: int
    residual_px: float | None
    matrix: np.ndarray

    @property
    def _similarity(self) -> np.ndarray:
        """The homography's linear part at the origin, normalised."""
        return self.matrix[:2, :2] / self.matrix[2, 2]

    @property
    def scale(self) -> float:
        """Isotropic scale of the map (geometric mean of its two axes)."""
        return float(np.sqrt(abs(np.linalg.det(self._similarity))))

    @property
    def rotation_deg(self) -> float:
        """Rotation of the map, degrees (counter-clockwise in image coordinates)."""
        linear = self._similarity
        return float(np.degrees(np.arctan2(linear[1, 0] - linear[0, 1], linear[0, 0] + linear[1, 1])))

    @property
    def shift(self) -> tuple[float, float]:
        """Translation of the map, px of the reference working image."""
        return float(self.matrix[0, 2] / self.matrix[2, 2]), float(self.matrix[1, 2] / self.matrix[2, 2])


IDENTITY = np.eye(3)


def shrink(pixels: np.ndarray, size: int) -> tuple[np.ndarray, float]:
    """A copy about `size` px on its longer side, by a whole-number factor (OpenCV's fast area path), and
    the factor applied."""
    height, width = pixels.shape[:2]
    step = max(1, round(max(height, width) / size))
    if step == 1:
        return pixels, 1.0
    # The sizes OpenCV derives from fx and fy (rounded), spelled out: a side of fewer pixels than the step would
    # otherwise shrink to nothing.
    target = (max(1, round(width / step)), max(1, round(height / step)))
    return cv2.resize(pixels, target, interpolation=cv2.INTER_AREA), 1 / step


def registrable(pixels: np.ndarray) -> bool:
    """Whether a working copy has enough of a frame to be registered (and compared region by region)."""
    return min(pixels.shape[:2]) >= MIN_REGISTRABLE_SIDE


def _grey_small(pixels: np.ndarray) -> tuple[np.ndarray, float]:
    small, factor = shrink(pixels, REGISTRATION_SIZE)
    return (cv2.cvtColor(small, cv2.COLOR_RGB2GRAY) if small.ndim == 3 else small), factor


def _features(grey: np.ndarray) -> tuple[list, np.ndarray | None]:
    return cv2.ORB_create(nfeatures=ORB_FEATURES, fastThreshold=10, edgeThreshold=15).detectAndCompute(grey, None)


def _feature_match(moving: np.ndarray, reference: np.ndarray) -> tuple[np.ndarray | None, int, float | None]:
    """A similarity (as a 3x3 matrix) from ORB matches with RANSAC, or None when the photos share too few
    features."""
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
    # A similarity first (four unknowns: RANSAC rarely settles on a wrong one); ECC then refines it to the
    # homography a turned or tilted phone gives.
    similarity, mask = cv2.estimateAffinePartial2D(
        src, dst, method=cv2.RANSAC, ransacReprojThreshold=RANSAC_THRESHOLD_PX, maxIters=2000, refineIters=20
    )
    if similarity is None:
        return None, 0, None
    matrix = np.vstack([similarity, [0.0, 0.0, 1.0]])
    inliers = mask.ravel().astype(bool)
    if inliers.sum() < MIN_INLIERS:
        return None, int(inliers.sum()), None
    projected = cv2.perspectiveTransform(src[inliers][None], matrix)[0]
    residual = float(np.median(np.linalg.norm(projected - dst[inliers], axis=1)))
    return matrix, int(inliers.sum()), residual


def _ecc(moving: np.ndarray, reference: np.ndarray, start: np.ndarray) -> np.ndarray | None:
    """Refine a moving -> reference homography by maximising the enhanced correlation coefficient (Evangelidis &
    Psarakis 2008); None when it does not converge."""
    # findTransformECC maps reference -> moving.
    warp = np.linalg.inv(start).astype(np.float32)
    criteria = (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, ECC_ITERATIONS, ECC_EPSILON)
    try:
        _, warp = cv2.findTransformECC(
            reference.astype(np.float32),
            moving.astype(np.float32),
            warp,
            cv2.MOTION_HOMOGRAPHY,
            criteria,
            None,
            ECC_GAUSS,
        )
    except cv2.error:
        return None
    return np.linalg.inv(warp.astype(np.float64))


def _scaled(matrix: np.ndarray, factor: float) -> np.ndarray:
    """A homography between two images expressed between copies of both resized by `factor`."""
    scale = np.diag([factor, factor, 1.0])
    return scale @ matrix @ np.linalg.inv(scale)


def _ecc_coarse_to_fine(moving: np.ndarray, reference: np.ndarray, start: np.ndarray) -> np.ndarray | None:
    """ECC from `start`, first on half-size copies (a wider basin for a turned phone), then at full size."""
    half_m = cv2.resize(moving, None, fx=ECC_COARSE_FACTOR, fy=ECC_COARSE_FACTOR, interpolation=cv2.INTER_AREA)
    half_r = cv2.resize(reference, None, fx=ECC_COARSE_FACTOR, fy=ECC_COARSE_FACTOR, interpolation=cv2.INTER_AREA)
    coarse = _ecc(half_m, half_r, _scaled(start, ECC_COARSE_FACTOR))
    if coarse is None:
        return None
    return _ecc(moving, reference, _scaled(coarse, 1 / ECC_COARSE_FACTOR))


def _gradient(grey: np.ndarray) -> np.ndarray:
    """The gradient magnitude of a lightly blurred grey copy."""
    smooth = cv2.GaussianBlur(grey.astype(np.float32), (0, 0), GRADIENT_SIGMA)
    return cv2.magnitude(cv2.Sobel(smooth, cv2.CV_32F, 1, 0), cv2.Sobel(smooth, cv2.CV_32F, 0, 1))


def _restart_poses(moving: np.ndarray, reference: np.ndarray, scale: float) -> list[np.ndarray]:
    """Starting homographies (moving -> reference): the frames' scale, with and without the shift phase
    correlation finds, turned and scaled about the reference's centre by RESTART_ANGLES_DEG and RESTART_SCALES."""
    height, width = reference.shape
    base = np.diag([scale, scale, 1.0])
    scaled = cv2.warpPerspective(moving, base, (width, height)).astype(np.float32)
    window = cv2.createHanningWindow((width, height), cv2.CV_32F)
    (dx, dy), _ = cv2.phaseCorrelate(reference.astype(np.float32), scaled, window)
    poses = []
    for angle in RESTART_ANGLES_DEG:
        for factor in RESTART_SCALES:
            turn = np.vstack([cv2.getRotationMatrix2D((width / 2, height / 2), angle, factor), [0.0, 0.0, 1.0]])
            for shift in ((0.0, 0.0), (-dx, -dy)):
                poses.append(turn @ np.array([[1, 0, shift[0]], [0, 1, shift[1]], [0, 0, 1.0]]) @ base)
    return poses


def _correlation(matrix: np.ndarray, moving: np.ndarray, reference: np.ndarray) -> float:
    """Correlation of `moving` brought onto `reference` with it, over the part it covers (-1 when it covers less
    than half)."""
    size = reference.shape[::-1]
    warped = cv2.warpPerspective(moving.astype(np.float32), matrix, size, flags=cv2.INTER_LINEAR)
    covered = cv2.warpPerspective(np.ones(moving.shape, np.uint8), matrix, size) > 0
    if covered.mean() < 0.5:
        return -1.0
    a, b = warped[covered], reference.astype(np.float32)[covered]
    a, b = a - a.mean(), b - b.mean()
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b) + 1e-9))


def _ecc_restarts(moving: np.ndarray, reference: np.ndarray, scale: float) -> np.ndarray | None:
    """ECC from each restart pose, on the grey copies and on their gradients: the plausible result that
    correlates best (at least RESTART_MIN_CORRELATION), or None."""
    best, best_score = None, RESTART_MIN_CORRELATION
    for pair in ((moving, reference), (_gradient(moving), _gradient(reference))):
        for start in _restart_poses(moving, reference, scale):
            found = _ecc_coarse_to_fine(*pair, start)
            if found is None or not _plausible(found, reference.shape):
                continue
            score = _correlation(found, *pair)
            if score > best_score:
                best, best_score = found, score
    return best


def _plausible(matrix: np.ndarray, shape: tuple[int, int]) -> bool:
    candidate = Alignment(True, "", 0, None, matrix)
    longest = max(shape)
    perspective = float(np.hypot(matrix[2, 0], matrix[2, 1]) / abs(matrix[2, 2]) * longest)
    return (
        SCALE_RANGE[0] <= candidate.scale <= SCALE_RANGE[1]
        and abs(candidate.rotation_deg) <= MAX_ROTATION_DEG
        and max(abs(v) for v in candidate.shift) <= MAX_SHIFT_FRACTION * longest
        and perspective <= MAX_PERSPECTIVE
    )


def rescaled(matrix: np.ndarray, moving_factor: float, reference_factor: float) -> np.ndarray:
    """A map between two images expressed between copies of them resized by these factors."""
    return (
        np.diag([reference_factor, reference_factor, 1.0])
        @ matrix
        @ np.diag([1 / moving_factor, 1 / moving_factor, 1.0])
    )


def align(moving: np.ndarray, reference: np.ndarray) -> Alignment:
    """Map `moving` (today's working image) onto `reference` (the earlier one). Never raises on a featureless
    or unrelated photo, nor on a strip or a thumbnail: it answers ok=False with the identity (method "too_small"
    for a photo below MIN_REGISTRABLE_SIDE), and the comparison falls back to unaligned."""
    if not (registrable(moving) and registrable(reference)):
        return Alignment(False, "too_small", 0, None, IDENTITY.copy())
    small_m, factor_m = _grey_small(moving)
    small_r, factor_r = _grey_small(reference)
    found, inliers, residual = _feature_match(small_m, small_r)
    method = "orb+ransac"
    # Without features to go by, a re-take frames what the earlier photo framed, whatever either frame's size (a
    # baseline's kept small copy, another phone's resolution): ECC starts from the frames laid onto each other.
    framing = max(small_r.shape) / max(small_m.shape)
    if found is None:
        method = "ecc"
        # A featureless pair stays unaligned.
        start = np.diag([framing, framing, 1.0])
        found = None if small_m.std() < 1.0 or small_r.std() < 1.0 else _ecc_coarse_to_fine(small_m, small_r, start)
    else:
        refined = _ecc(small_m, small_r, found)
        if refined is not None and _plausible(refined, small_r.shape):
            found, method = refined, "orb+ransac+ecc"
    if (found is None or not _plausible(found, small_r.shape)) and min(small_m.std(), small_r.std()) >= 1.0:
        restarted = _ecc_restarts(small_m, small_r, framing)
        if restarted is not None:
            found, method, residual = restarted, "ecc-restarts", None
    if found is None or not _plausible(found, small_r.shape):
        return Alignment(False, "none" if found is None else method, inliers, residual, IDENTITY.copy())
    matrix = rescaled(found, 1.0 / factor_m, 1.0 / factor_r)
    return Alignment(True, method, inliers, None if residual is None else residual / factor_r, matrix)


def warp_to(moving: np.ndarray, alignment: Alignment, shape: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """`moving` resampled into the reference frame, and the mask of reference pixels it covers."""
    height, width = shape
    warped = cv2.warpPerspective(moving, alignment.matrix, (width, height), flags=cv2.INTER_LINEAR)
    coverage = cv2.warpPerspective(
        np.full(moving.shape[:2], 255, np.uint8), alignment.matrix, (width, height), flags=cv2.INTER_NEAREST
    )
    # Stay a few pixels inside the covered area: interpolation blends the border with black.
    mask = cv2.erode(coverage, np.ones((5, 5), np.uint8)) > 0
    return warped, mask


@dataclass(frozen=True)
class Pose:
    """How a new photo sits against the earlier one of its angle: the turn and scale that map it back, where its
    frame's centre lands (fractions of the earlier frame, from its centre), and how much of the earlier frame it
    covers."""

    ok: bool
    rotation_deg: float
    scale: float
    shift: tuple[float, float]
    overlap: float


def pose(alignment: Alignment, moving_shape: tuple[int, int], reference_shape: tuple[int, int]) -> Pose:
    """The pose of a registered photo (`alignment` maps the moving frame onto the reference's; the scale is read
    between the frames as if both had the same size, so a smaller copy of the reference changes nothing)."""
    height, width = reference_shape
    centre = np.float32([[[moving_shape[1] / 2, moving_shape[0] / 2]]])
    landed = cv2.perspectiveTransform(centre, alignment.matrix)[0, 0]
    shift = (float(landed[0] / width - 0.5), float(landed[1] / height - 0.5))
    _, covered = warp_to(np.zeros(moving_shape[:2], np.uint8), alignment, reference_shape)
    overlap = float(covered.mean()) if alignment.ok else 0.0
    relative = alignment.scale * max(moving_shape[:2]) / max(reference_shape[:2])
    return Pose(alignment.ok, alignment.rotation_deg, relative, shift, overlap)
