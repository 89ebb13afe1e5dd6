"""Image, angle and session quality: blur, exposure, contrast, noise and consistency, each scored in [0, 1]."""

from dataclasses import asdict, dataclass, field

import cv2
import numpy as np

from . import preprocessing


@dataclass(frozen=True)
class QualityThresholds:
    """Every threshold and weight in one place; docs/QUALITY.md shows the real-photo run that chose them."""

    # Laplacian variance of the brightness-normalised luma at WORKING_SIZE px. Raw variance
    # depends on the scene (smooth skin scores low even when sharp), so it only flags the
    # hopeless cases; the score uses the content-normalised blur effect below.
    blur_variance_low: float = 15.0
    # Crete et al.'s blur effect (0 sharp .. 1 blurred): clean real photos measured 0.40-0.59,
    # blurred ones 0.69-0.93 (gaussian sigma >= 1.5 or motion >= 9 px at 512 px).
    blur_effect_sharp: float = 0.62
    blur_effect_blurred: float = 0.70
    # Mean luminance (0-1) outside [too_dark, too_bright] flags the image.
    too_dark: float = 0.2
    too_bright: float = 0.8
    # Share of pixels at the ends of the range: above START the score falls, above MAX flagged.
    clipped_share_start: float = 0.1
    clipped_share_max: float = 0.35
    # Luminance standard deviation (0-1) of the normalised image: below LOW the photo is flat.
    contrast_low: float = 0.04
    contrast_good: float = 0.12
    # Noise sigma (0-255) measured in the flattest 10% of the image: clean photos 0.1-1.4
    # (textures up to ~8), noisy ones 2.4-14.
    noise_good: float = 1.5
    noise_high: float = 9.0
    # Heavy compression or smoothing leaves no grain at all in flat areas (clean photos >= 0.15).
    grain_floor: float = 0.03
    grain_natural: float = 0.12
    # Exponents of the product that makes image_quality_score: sharpness dominates.
    weight_sharpness: float = 1.0
    weight_exposure: float = 0.6
    weight_contrast: float = 0.3
    weight_noise: float = 0.7
    weight_grain: float = 1.0
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


@dataclass(frozen=True)
class ImageQuality:
    """Measures, flags and score of one image."""

    blur_variance: float
    blur_effect: float
    brightness: float
    contrast: float
    clipped_dark: float
    clipped_bright: float
    noise_sigma: float
    is_blurry: bool
    is_too_dark: bool
    is_too_bright: bool
    low_confidence: bool
    brightness_correction: float
    image_quality_score: float
    hints: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        """Plain-JSON form."""
        return asdict(self)


def _ramp(value: float, low: float, high: float) -> float:
    return float(np.clip((value - low) / (high - low), 0.0, 1.0))


def _log_ramp(value: float, low: float, high: float) -> float:
    return _ramp(float(np.log1p(max(value, 0.0))), float(np.log1p(low)), float(np.log1p(high)))


_NOISE_MASK = np.array([[1, -2, 1], [-2, 4, -2], [1, -2, 1]], dtype=np.float32)
FLAT_SHARE_PERCENTILE = 10


def noise_sigma(grey: np.ndarray) -> float:
    """Immerkaer's noise estimate taken in the flattest part of the image, so texture is not read as grain."""
    if min(grey.shape) < 3:
        return 0.0
    values = grey.astype(np.float32)
    residue = np.abs(cv2.filter2D(values, -1, _NOISE_MASK))[1:-1, 1:-1]
    gradient = (np.abs(cv2.Sobel(values, cv2.CV_32F, 1, 0)) + np.abs(cv2.Sobel(values, cv2.CV_32F, 0, 1)))[1:-1, 1:-1]
    flat = gradient <= np.percentile(gradient, FLAT_SHARE_PERCENTILE)
    return float(np.sqrt(np.pi / 2) / 6.0 * residue[flat].mean())


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


def measure(working: np.ndarray, thresholds: QualityThresholds = DEFAULT_THRESHOLDS) -> ImageQuality:
    """Measure one RGB image already scaled to WORKING_SIZE."""
    return measure_and_normalise(working, thresholds)[0]


def measure_and_normalise(
    working: np.ndarray, thresholds: QualityThresholds = DEFAULT_THRESHOLDS
) -> tuple[ImageQuality, preprocessing.Normalised]:
    """Measure one working-size image and return its brightness-normalised pixels too (computed once)."""
    grey_raw = preprocessing.luminance(working)
    normalised = preprocessing.normalise_brightness(working)
    grey = preprocessing.luminance(normalised.pixels)
    blur_variance = float(cv2.Laplacian(grey, cv2.CV_64F).var())
    blur = blur_effect(grey)
    brightness = float(grey_raw.mean()) / 255.0
    contrast = float(grey_raw.std()) / 255.0
    clipped_dark = float(np.count_nonzero(grey_raw <= 5)) / grey_raw.size
    clipped_bright = float(np.count_nonzero(grey_raw >= 250)) / grey_raw.size
    sigma = noise_sigma(grey)

    t = thresholds
    sharpness = 1.0 - _ramp(blur, t.blur_effect_sharp, t.blur_effect_blurred)
    exposure = (
        _ramp(brightness, t.too_dark / 2, t.too_dark + 0.1)
        * (1.0 - _ramp(brightness, t.too_bright - 0.1, (1.0 + t.too_bright) / 2))
        * (1.0 - _ramp(max(clipped_dark, clipped_bright), t.clipped_share_start, t.clipped_share_max))
    )
    contrast_score = _ramp(float(grey.std()) / 255.0, t.contrast_low, t.contrast_good)
    noise_score = 1.0 - _ramp(sigma, t.noise_good, t.noise_high)
    grain_score = 0.5 + 0.5 * _ramp(sigma, t.grain_floor, t.grain_natural)
    factors = (
        (sharpness, t.weight_sharpness),
        (exposure, t.weight_exposure),
        (contrast_score, t.weight_contrast),
        (noise_score, t.weight_noise),
        (grain_score, t.weight_grain),
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
        is_blurry=is_blurry,
        is_too_dark=is_too_dark,
        is_too_bright=is_too_bright,
        low_confidence=low_confidence,
        brightness_correction=round(normalised.gamma, 4),
        image_quality_score=round(score, 4),
        hints=_hints(is_blurry, is_too_dark, is_too_bright, sigma > t.noise_high),
    )
    return measured, normalised


def _hints(is_blurry: bool, is_too_dark: bool, is_too_bright: bool, is_grainy: bool) -> list[str]:
    hints = []
    if is_blurry:
        hints.append("Image looks blurred: hold the phone steady and retake.")
    if is_too_dark:
        hints.append("Image looks dark: add light or face a window and retake.")
    if is_too_bright:
        hints.append("Image looks overexposed: move away from direct light and retake.")
    if is_grainy:
        hints.append("Image looks grainy: more light will give a cleaner photo.")
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


def measure_bytes(data: bytes, thresholds: QualityThresholds = DEFAULT_THRESHOLDS) -> ImageQuality:
    """Decode (fast path) and measure an image file."""
    loaded = preprocessing.load_image(data, max_side=preprocessing.WORKING_SIZE)
    return measure(preprocessing.resize_long_side(loaded.pixels), thresholds)
