"""analysis_confidence_score: how far to trust a result, with its components and weights shown."""

from dataclasses import dataclass

import numpy as np

# Why these weights: image quality decides whether the embedding sees the body or the blur;
# history says whether today's conditions match the past; angles and counts add redundancy.
WEIGHTS = {
    "image_quality": 0.4,
    "angle_consistency": 0.2,
    "images_per_angle": 0.15,
    "historical_consistency": 0.25,
}
# Two images per angle let a single bad shot be outvoted.
IMAGES_PER_ANGLE_TARGET = 2
# Differences in mean brightness / quality against past sessions at which history agreement is 0.
HISTORY_BRIGHTNESS_SPAN = 0.25
HISTORY_QUALITY_SPAN = 0.4
# When every image is low confidence, the result cannot be trusted beyond this.
ALL_LOW_CONFIDENCE_CAP = 0.25
# Share of the score an unregistered angle takes away (all angles unregistered: this much less).
ALIGNMENT_PENALTY = 0.3
# Spread (sd) of one angle's whole-image distance between re-captures of the same scene
# (bench/trust_eval.py: re-captures average 0.05 with this spread), the interval's noise model.
RECAPTURE_DISTANCE_SD = 0.03
INTERVAL_Z = 1.96


@dataclass(frozen=True)
class History:
    """Mean brightness and image quality of the user's earlier analysed sessions."""

    sessions: int
    brightness: float
    quality: float


@dataclass(frozen=True)
class Confidence:
    """The score and everything it was made of."""

    score: float
    components: dict


def analysis_confidence(
    image_scores: list[float],
    image_brightness: list[float],
    low_confidence_flags: list[bool],
    images_per_angle: list[int],
    angle_consistency: float,
    history: History | None,
    aligned_share: float | None = None,
) -> Confidence:
    """Combine quality, consistency across angles, images per angle and history into one score in [0, 1]."""
    values = {
        "image_quality": float(np.mean(image_scores)) if image_scores else 0.0,
        "angle_consistency": angle_consistency,
        "images_per_angle": float(np.mean([min(n / IMAGES_PER_ANGLE_TARGET, 1.0) for n in images_per_angle]))
        if images_per_angle
        else 0.0,
    }
    weights = dict(WEIGHTS)
    if history is None or history.sessions == 0:
        # A first session has no history: leave it out rather than invent agreement.
        weights.pop("historical_consistency")
        history_note = "unavailable: no earlier analysed session"
    else:
        brightness_gap = abs(float(np.mean(image_brightness)) - history.brightness)
        quality_gap = abs(values["image_quality"] - history.quality)
        values["historical_consistency"] = float(
            np.clip(1 - 0.5 * brightness_gap / HISTORY_BRIGHTNESS_SPAN - 0.5 * quality_gap / HISTORY_QUALITY_SPAN, 0, 1)
        )
        history_note = f"compared with {history.sessions} earlier session(s)"
    total = sum(weights.values())
    score = sum(values[name] * weight / total for name, weight in weights.items())
    low_share = float(np.mean(low_confidence_flags)) if low_confidence_flags else 1.0
    # Low-confidence images weigh on the score beyond their quality: the embedding may be of the blur.
    score *= 1.0 - 0.5 * low_share
    if aligned_share is not None:
        # An angle that could not be registered was compared unaligned: less exactly.
        score *= 1.0 - ALIGNMENT_PENALTY * (1.0 - aligned_share)
    all_low = bool(low_confidence_flags) and all(low_confidence_flags)
    if all_low:
        score = min(score, ALL_LOW_CONFIDENCE_CAP)
    components = {
        name: {
            "value": round(values[name], 4) if name in values else None,
            "weight": round(weights[name] / total, 4) if name in weights else 0.0,
        }
        for name in WEIGHTS
    }
    components["historical_consistency"]["note"] = history_note
    components["low_confidence_share"] = round(low_share, 4)
    components["aligned_share"] = None if aligned_share is None else round(aligned_share, 4)
    components["all_images_low_confidence"] = all_low
    if all_low:
        components["warning"] = "Every image was flagged low confidence: this result is not reliable."
    return Confidence(score=round(float(np.clip(score, 0.0, 1.0)), 4), components=components)


def change_interval(change_score: float | None, confidence: float, angles: int) -> tuple[float, float] | None:
    """A 95% interval around change_score from the re-capture noise of the whole-image distance, averaged
    over the angles and widened as the confidence falls; None without a score."""
    if change_score is None or angles == 0:
        return None
    half = INTERVAL_Z * RECAPTURE_DISTANCE_SD / np.sqrt(angles) * (2.0 - confidence)
    return round(max(0.0, change_score - half), 4), round(change_score + half, 4)
