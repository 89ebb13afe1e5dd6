"""Image, angle and session quality: blur, exposure, contrast, noise and consistency, each scored in [0, 1]."""

from dataclasses import asdict, dataclass

import cv2
import numpy as np

from ..schemas.analysis import ImageQuality
from . import preprocessing


@dataclass(frozen=True)
class QualityThresholds:
    """Every threshold and weight in one place; docs/QUALITY.md shows the real-photo run that chose them."""

    # Laplacian variance of the brightness-normalised luma at WORKING_SIZE px. Raw variance
    # depends on the scene (smooth skin scores low even when sharp), so it only flags the
    # hopeless cases; the score uses the content-normalised blur effect below.
    blur_variance_low: float = 15.0
    # Crete et al.'s blur effect (0 sharp .. 1 blurred) of the luma as shot: clean real photos
    # measured 0.40-0.59 (one soft wall texture 0.84), blurred ones 0.69-0.93 (gaussian sigma
    # >= 1.5 or motion >= 9 px at 512 px).
    blur_effect_sharp: float = 0.60
    blur_effect_blurred: float = 0.70
    # A blurred photo keeps this share of its sharpness factor, so a photo with a second defect
    # still ranks below one that is only blurred.
    sharpness_floor: float = 0.1
    # Mean luminance (0-1) outside [too_dark, too_bright] flags the image; the exposure factor
    # ramps down from dark_ok to dark_floor and from bright_ok to bright_floor.
    too_dark: float = 0.2
    too_bright: float = 0.8
    dark_floor: float = 0.12
    dark_ok: float = 0.30
    bright_ok: float = 0.70
    bright_floor: float = 0.90
    # Share of pixels clipped (any channel >= 250, or all <= 5): above START the score falls,
    # above MAX flagged. Clean photos reach 0.17 (a white sky), 4x over-exposure 0.18-0.81.
    clipped_share_start: float = 0.1
    clipped_share_max: float = 0.35
    # Luminance standard deviation (0-1) of the normalised image: below LOW the photo is flat.
    contrast_low: float = 0.04
    contrast_good: float = 0.12
    # Noise sigma (0-255) in the flattest 10% of the luma: clean photos 0.15-1.4, but textures
    # without flat areas (grass, gravel) reach 3.6-7.9; noisy ones 4.4-22.
    noise_good: float = 1.5
    noise_high: float = 4.0
    # The same estimate on the chroma planes: sensor noise is independent per colour channel,
    # texture mostly is not. Clean photos 0-0.09 (one dark, grainy flower 0.66), noisy 0.42-2.0.
    # Grain counts only when both luma and chroma show it.
    chroma_noise_good: float = 0.15
    chroma_noise_high: float = 0.4
    # Luma steps on the JPEG 8x8 grid over steps elsewhere: clean photos 0.98-1.3, blurred up
    # to 1.3, quality-5 JPEGs 2.4-6.3.
    blockiness_good: float = 1.4
    blockiness_high: float = 2.2
    # Exponents of the product that makes image_quality_score.
    weight_sharpness: float = 1.0
    weight_exposure: float = 1.0
    weight_contrast: float = 0.3
    weight_noise: float = 1.0
    weight_blockiness: float = 1.0
    # An image below this score is low confidence even when no single flag is raised.
    low_confidence_score: float = 0.4
    # Images per angle at which the angle counts as fully covered.
    angle_images_target: int = 2
    # Session score: weights of angle quality, coverage and cross-image consistency.
    session_weight_angles: float = 0.6
    session_weight_coverage: float = 0.15
    session_weight_consistency: float = 0.25
    # Brightness / contrast spread (std, 0-1 scale) at which consistency reaches 0.
    brightness_spread_max: float = 0.2
    contrast_spread_max: float = 0.1

    def with_overrides(self, overrides: dict | None) -> "QualityThresholds":
        """A copy with the given fields replaced (from config QUALITY_THRESHOLDS)."""
        return QualityThresholds(**{**asdict(self), **(overrides or {})})


DEFAULT_THRESHOLDS = QualityThresholds()
FULL_COVERAGE_ANGLES = 3


def _ramp(value: float, low: float, high: float) -> float:
    return float(np.clip((value - low) / (high - low), 0.0, 1.0))


_NOISE_MASK = np.array([[1, -2, 1], [-2, 4, -2], [1, -2, 1]], dtype=np.float32)
FLAT_SHARE_PERCENTILE = 10
# Blockiness looks at a central crop of the decoded image: the grid is the same everywhere.
BLOCKINESS_CROP = 512
# Half a grey level, so the steps of a nearly flat image do not make a ratio out of nothing.
BLOCKINESS_EPS = 0.5


def _at_or_below_percentile(levels: np.ndarray, percentile: float) -> np.ndarray:
    """Where whole-number `levels` (non-negative) are at or below their percentile (NumPy's linear method): the
    order statistic below it, read off a count of each level, as a sort would give it in a fraction of the time."""
    counts = np.cumsum(np.bincount(levels.astype(np.int32).ravel()))
    below = int(percentile / 100 * (levels.size - 1))
    # Between two neighbouring order statistics there is no level: at or below the interpolated percentile is at or
    # below the lower one.
    return levels <= int(np.searchsorted(counts, below, side="right"))


def noise_sigma(channel: np.ndarray) -> float:
    """Immerkaer's noise estimate taken in the flattest part of one uint8 channel, so texture is not read as
    grain."""
    if min(channel.shape) < 3:
        return 0.0
    values = channel.astype(np.float32)
    residue = np.abs(cv2.filter2D(values, -1, _NOISE_MASK))[1:-1, 1:-1]
    # Whole numbers: Sobel of whole numbers.
    gradient = (np.abs(cv2.Sobel(values, cv2.CV_32F, 1, 0)) + np.abs(cv2.Sobel(values, cv2.CV_32F, 0, 1)))[1:-1, 1:-1]
    flat = _at_or_below_percentile(gradient, FLAT_SHARE_PERCENTILE)
    return float(np.sqrt(np.pi / 2) / 6.0 * residue[flat].mean())


def chroma_noise_sigma(pixels: np.ndarray) -> float:
    """The larger of the two chroma planes' noise estimates (sensor grain is independent per channel)."""
    ycrcb = cv2.cvtColor(pixels, cv2.COLOR_RGB2YCrCb)
    return max(noise_sigma(ycrcb[:, :, 1]), noise_sigma(ycrcb[:, :, 2]))


def blur_effect(grey: np.ndarray, size: int = 9) -> float:
    """Crete et al. (2007) blur effect: how little re-blurring changes the image (0 sharp .. 1 blurred)."""
    values = grey.astype(np.float32)
    effects = []
    for axis, kernel in ((0, (1, size)), (1, (size, 1))):
        if values.shape[axis] < 2:
            continue
        own = np.abs(np.diff(values, axis=axis))
        reblurred = np.abs(np.diff(cv2.blur(values, kernel[::-1]), axis=axis))
        total = float(own.sum())
        lost = float(np.maximum(own - reblurred, 0).sum())
        effects.append((total - lost) / total if total > 0 else 1.0)
    return max(effects, default=1.0)


def blockiness(pixels: np.ndarray, period: int | None) -> float:
    """How much larger luma steps are on one phase of a `period` px grid than on the others (1 = no grid).

    Taking the strongest phase against the median one finds the JPEG grid wherever a crop or
    rotation put it.
    """
    if period is None or min(pixels.shape[:2]) < 4 * period:
        return 1.0
    top = max(0, (pixels.shape[0] - BLOCKINESS_CROP) // 2)
    left = max(0, (pixels.shape[1] - BLOCKINESS_CROP) // 2)
    crop = preprocessing.luminance(
        np.ascontiguousarray(pixels[top : top + BLOCKINESS_CROP, left : left + BLOCKINESS_CROP])
    ).astype(np.float32)
    ratios = []
    for axis in (0, 1):
        steps = np.abs(np.diff(crop, axis=axis)).mean(axis=1 - axis)
        phases = steps[: steps.size // period * period].reshape(-1, period).mean(axis=0)
        ratios.append((phases.max() + BLOCKINESS_EPS) / (float(np.median(phases)) + BLOCKINESS_EPS))
    return float(np.mean(ratios))


def measure(
    loaded: preprocessing.LoadedImage,
    thresholds: QualityThresholds = DEFAULT_THRESHOLDS,
    working: np.ndarray | None = None,
) -> tuple[ImageQuality, preprocessing.Normalised]:
    """Measure a decoded photo and return its brightness-normalised working copy too (computed once).

    Blockiness is read on the decoded grid; everything else on the working copy (`working`, when the caller has
    already fitted the photo to the working size).
    """
    blocks = blockiness(loaded.pixels, loaded.block_period)
    if working is None:
        working = preprocessing.fit_long_side(loaded.pixels)
    grey_raw = preprocessing.luminance(working)
    normalised = preprocessing.normalise_brightness(working)
    grey = preprocessing.luminance(normalised.pixels)
    blur_variance = float(cv2.Laplacian(grey, cv2.CV_64F).var())
    # Blur is read before the gamma: stretching a dark photo's few levels makes false steps.
    blur = blur_effect(grey_raw)
    brightness = float(grey_raw.mean()) / 255.0
    contrast = float(grey_raw.std()) / 255.0
    # A pixel is clipped bright when any channel saturates, dark when every channel is black.
    channel_max = np.maximum(np.maximum(working[:, :, 0], working[:, :, 1]), working[:, :, 2])
    clipped_dark = float(np.count_nonzero(channel_max <= 5)) / grey_raw.size
    clipped_bright = float(np.count_nonzero(channel_max >= 250)) / grey_raw.size
    sigma = noise_sigma(grey)
    chroma_sigma = chroma_noise_sigma(normalised.pixels)

    t = thresholds
    sharpness = 1.0 - (1.0 - t.sharpness_floor) * _ramp(blur, t.blur_effect_sharp, t.blur_effect_blurred)
    exposure = (
        _ramp(brightness, t.dark_floor, t.dark_ok)
        * (1.0 - _ramp(brightness, t.bright_ok, t.bright_floor))
        * (1.0 - _ramp(max(clipped_dark, clipped_bright), t.clipped_share_start, t.clipped_share_max))
    )
    contrast_score = _ramp(float(grey.std()) / 255.0, t.contrast_low, t.contrast_good)
    luma_grain = _ramp(sigma, t.noise_good, t.noise_high)
    graininess = luma_grain * _ramp(chroma_sigma, t.chroma_noise_good, t.chroma_noise_high)
    compression = _ramp(blocks, t.blockiness_good, t.blockiness_high)
    factors = (
        (sharpness, t.weight_sharpness),
        (exposure, t.weight_exposure),
        (contrast_score, t.weight_contrast),
        (1.0 - graininess, t.weight_noise),
        (1.0 - compression, t.weight_blockiness),
    )
    score = float(np.clip(np.prod([max(value, 1e-3) ** weight for value, weight in factors]), 0.0, 1.0))

    is_blurry = blur > t.blur_effect_blurred or blur_variance < t.blur_variance_low
    is_too_dark = brightness < t.too_dark or clipped_dark > t.clipped_share_max
    is_too_bright = brightness > t.too_bright or clipped_bright > t.clipped_share_max
    low_confidence = is_blurry or score < t.low_confidence_score
    measured = ImageQuality(
        blur_variance=round(blur_variance, 3),
        blur_effect=round(blur, 4),
        brightness=round(brightness, 4),
        contrast=round(contrast, 4),
        clipped_dark=round(clipped_dark, 4),
        clipped_bright=round(clipped_bright, 4),
        noise_sigma=round(sigma, 3),
        chroma_noise=round(chroma_sigma, 3),
        blockiness=round(blocks, 3),
        is_blurry=is_blurry,
        is_too_dark=is_too_dark,
        is_too_bright=is_too_bright,
        low_confidence=low_confidence,
        brightness_correction=round(normalised.gamma, 4),
        image_quality_score=round(score, 4),
        hints=_hints(is_blurry, is_too_dark, is_too_bright, graininess > 0.5, compression > 0.5),
    )
    return measured, normalised


def _hints(is_blurry: bool, is_too_dark: bool, is_too_bright: bool, is_grainy: bool, is_compressed: bool) -> list[str]:
    hints = []
    if is_blurry:
        hints.append("Image looks blurred: hold the phone steady and retake.")
    if is_too_dark:
        hints.append("Image looks dark: add light or face a window and retake.")
    if is_too_bright:
        hints.append("Image looks overexposed: move away from direct light and retake.")
    if is_grainy:
        hints.append("Image looks grainy: more light will give a cleaner photo.")
    if is_compressed:
        hints.append("Image looks heavily compressed: upload the camera's original photo.")
    return hints


def spread_consistency(values: list[float], spread_max: float) -> float:
    """1 when the values agree, falling linearly to 0 as their std reaches `spread_max`."""
    if len(values) < 2:
        return 1.0
    return 1.0 - _ramp(float(np.std(values)), 0.0, spread_max)


def consistency_score(qualities: list[ImageQuality], thresholds: QualityThresholds = DEFAULT_THRESHOLDS) -> float:
    """Seed's consistency scoring: brightness and contrast compared across images."""
    brightness = spread_consistency([q.brightness for q in qualities], thresholds.brightness_spread_max)
    contrast = spread_consistency([q.contrast for q in qualities], thresholds.contrast_spread_max)
    return round(0.6 * brightness + 0.4 * contrast, 4)


def angle_quality_score(qualities: list[ImageQuality], thresholds: QualityThresholds = DEFAULT_THRESHOLDS) -> float:
    """An angle's score from its images' quality, how many there are, and how alike they are."""
    if not qualities:
        return 0.0
    scores = sorted((q.image_quality_score for q in qualities), reverse=True)
    # The best images carry the angle; more images and agreeing images add trust.
    best = float(np.mean(scores[: thresholds.angle_images_target]))
    count = min(len(qualities), thresholds.angle_images_target) / thresholds.angle_images_target
    agreement = consistency_score(qualities, thresholds)
    return round(float(np.clip(best * (0.85 + 0.1 * count + 0.05 * agreement) - 0.05 * (1 - agreement), 0, 1)), 4)


def session_quality_score(
    by_angle: dict[str, list[ImageQuality]], thresholds: QualityThresholds = DEFAULT_THRESHOLDS
) -> tuple[float, float]:
    """(session_quality_score, consistency_score) from angle scores, coverage and cross-image consistency."""
    qualities = [q for images in by_angle.values() for q in images]
    if not qualities:
        return 0.0, 0.0
    angles = float(np.mean([angle_quality_score(images, thresholds) for images in by_angle.values() if images]))
    coverage = min(len([a for a, images in by_angle.items() if images]), FULL_COVERAGE_ANGLES) / FULL_COVERAGE_ANGLES
    consistency = consistency_score(qualities, thresholds)
    score = (
        thresholds.session_weight_angles * angles
        + thresholds.session_weight_coverage * coverage
        + thresholds.session_weight_consistency * consistency
    )
    return round(float(np.clip(score, 0.0, 1.0)), 4), consistency
