"""Neutral words for distances: variation levels and summaries that say what was compared with what."""

# Lower bounds of each band of cosine distance; a boundary value belongs to the higher band.
VARIATION_BANDS = (
    (0.70, "Strong Variation"),
    (0.45, "Higher Variation"),
    (0.25, "Moderate Variation"),
    (0.10, "Mild Variation"),
    (0.0, "Stable"),
)
LAYER_WORDS = {
    "baseline": "your baseline session",
    "previous": "your previous session",
    "rolling": "your last 5 sessions",
    "monthly": "your sessions of the last 30 days",
    "lifetime": "all your earlier sessions",
}


def variation_level(distance: float | None) -> str | None:
    """The band a distance falls in (clamped to [0, 1]); None when there is no distance."""
    if distance is None:
        return None
    clamped = min(max(float(distance), 0.0), 1.0)
    return next(label for bound, label in VARIATION_BANDS if clamped >= bound)


def angle_summary(angle: str, layer: str | None, distance: float | None) -> str:
    """One neutral sentence for an angle."""
    if layer is None or distance is None:
        return f"The {angle} view has no earlier session to compare with yet; it is stored as a reference."
    level = variation_level(distance)
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
