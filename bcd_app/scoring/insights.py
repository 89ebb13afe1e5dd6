"""Neutral sentences for the places of a view that differ more than the user's own variation there."""

from ..constants import UNKNOWN_PHASE
from ..schemas.analysis import AngleResult

# The wording the client shows ("the upper left area") maps onto the 3 x 3 cells one to one.
ROW_WORDS = ("upper", "middle", "lower")
COLUMN_WORDS = ("left", "center", "right")
# Since when a place differs, by the reference it differs from.
SINCE = {"baseline": "baseline", "previous": "last session"}
# At most this many places are worded per angle, the furthest above the floor first.
INSIGHTS_PER_ANGLE = 2


def place_words(row: int, col: int) -> str:
    """'upper left area', 'central area', ... for a cell."""
    if (row, col) == (1, 1):
        return "central area"
    words = [ROW_WORDS[row], COLUMN_WORDS[col]]
    return " ".join(w for w in words if w not in ("middle", "center")) + " area"


def insights(per_angle: list[AngleResult]) -> list[str]:
    """One neutral sentence per place above the user's noise floor, in registered views; none when nothing is."""
    sentences = []
    for angle in per_angle:
        if angle.alignment is None or not angle.alignment.ok:
            continue
        above = sorted(
            (r for r in angle.regions if r.exceeds_noise_floor), key=lambda r: r.change / r.noise_floor, reverse=True
        )
        for region in above[:INSIGHTS_PER_ANGLE]:
            since = SINCE[region.reference]
            sentences.append(
                f"The {place_words(region.row, region.col)} of the {angle.angle_type} view differs more "
                f"than the rest of that view since your {since}."
            )
    return sentences


def cycle_insight(today_phase: str, baseline_phase: str) -> str | None:
    """A neutral sentence when today's photos and the baseline's were taken in different known phases of her
    cycle; None otherwise."""
    if UNKNOWN_PHASE in (today_phase, baseline_phase) or today_phase == baseline_phase:
        return None
    return (
        f"Your baseline photos were taken in the {baseline_phase} phase and today's in the "
        f"{today_phase} phase. Breast tissue often looks fuller in the days before a period, so some variation is "
        "expected; a check-in at the same point of your cycle compares like with like."
    )
