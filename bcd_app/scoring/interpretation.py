"""Neutral words for distances: variation levels, trends, summaries and the interpretation card."""

from ..constants import MONTHLY_DAYS, ROLLING_SESSIONS, STABLE, TREND_BANDS, VARIATION_BANDS
from ..schemas.analysis import ConfidenceLabel, Interpretation, InterpretationFlags, Trend, VariationLevel

# analysis_confidence_score at or above which the label is High, and Moderate.
CONFIDENCE_HIGH = 0.7
CONFIDENCE_MODERATE = 0.45
# Analysed sessions (this one included) before the history is more than an early baseline.
ESTABLISHED_HISTORY = 3
LAYER_WORDS = {
    "baseline": "your baseline session",
    "previous": "your previous session",
    "rolling": f"your last {ROLLING_SESSIONS} sessions",
    "monthly": f"your sessions of the last {MONTHLY_DAYS} days",
    "lifetime": "all your earlier sessions",
}
WHAT_IS_MEASURED = (
    "The score measures how much the photos differ in visual appearance (light, position and the surface seen); "
    "it does not assess health."
)


def variation_level(distance: float | None) -> VariationLevel | None:
    """The band a distance falls in (clamped to [0, 1]); None when there is no distance."""
    if distance is None:
        return None
    clamped = min(max(float(distance), 0.0), 1.0)
    return next(label for bound, label in VARIATION_BANDS if clamped >= bound)


def trend(delta: float) -> Trend:
    """How far a score moved between two sessions, in the frontend's three words."""
    return next(label for bound, label in TREND_BANDS if abs(delta) >= bound)


def confidence_label(score: float) -> ConfidenceLabel:
    """High / Moderate / Low from analysis_confidence_score."""
    if score >= CONFIDENCE_HIGH:
        return "High"
    return "Moderate" if score >= CONFIDENCE_MODERATE else "Low"


def angle_summary(angle: str, layer: str | None, level: str | None) -> str:
    """One neutral sentence for an angle."""
    if layer is None or level is None:
        return f"The {angle} view has no earlier session to compare with yet; it is stored as a reference."
    return f"The {angle} view compared with {LAYER_WORDS[layer]}: {level.lower()} in visual appearance."


def overall_summary(level: str | None, layer: str | None, angle_count: int, all_low_confidence: bool) -> str:
    """One neutral paragraph for the session."""
    if layer is None or level is None:
        text = f"First analysed session: its {angle_count} views are stored as the reference for later sessions."
    else:
        text = (
            f"Across {angle_count} views, today's photos compared with {LAYER_WORDS[layer]} show "
            f"{level.lower()} in visual appearance. This measures how photos differ, not health."
        )
    if all_low_confidence:
        text += " Every photo was flagged as low quality, so this result is less reliable: consider retaking them."
    return text


def interpret(
    *,
    level: str | None,
    layer: str | None,
    angle_count: int,
    confidence: float,
    analysed_sessions: int,
    angle_mismatch: bool,
    all_low_confidence: bool,
) -> Interpretation:
    """The summary card: what today's photos were compared with, what it shows, and how far to trust it."""
    label = confidence_label(confidence)
    if layer is None or level is None:
        summary = f"Your baseline is recorded: these {angle_count} views are the reference for your later sessions."
    elif level == STABLE:
        summary = f"Today's photos look stable compared with {LAYER_WORDS[layer]}."
    else:
        summary = f"Today's photos show {level.lower()} compared with {LAYER_WORDS[layer]}."
    notes = [WHAT_IS_MEASURED, f"Confidence in this comparison is {label.lower()} ({confidence:.2f})."]
    if all_low_confidence:
        notes.append("Every photo was flagged as low quality: retaking them in steady, even light will help.")
    if angle_mismatch:
        notes.append(
            "At least one view was taken from a noticeably different position, so it was compared less exactly."
        )
    early = analysed_sessions < ESTABLISHED_HISTORY
    if early and layer is not None:
        notes.append(
            f"With {analysed_sessions} analysed sessions the history is still short; "
            + f"it steadies after {ESTABLISHED_HISTORY}."
        )
    return Interpretation(
        summary_text=summary,
        explanation_text=" ".join(notes),
        confidence_label=label,
        confidence_score=confidence,
        flags=InterpretationFlags(angle_mismatch=angle_mismatch, early_baseline=early),
    )
