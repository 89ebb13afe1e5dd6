"""The chart of a person's history: change score and confidence of every analysed session, the baseline and
today marked, the variation bands behind (a PNG, so any PDF reader shows it)."""

import io
from dataclasses import dataclass
from datetime import datetime

from PIL import Image, ImageDraw, ImageFont

from ..constants import VARIATION_BANDS

SIZE = (1400, 560)
MARGIN = (110, 44, 110, 90)  # left, top, right, bottom
SCORE_COLOUR, CONFIDENCE_COLOUR, MARK_COLOUR = (20, 90, 160), (150, 150, 150), (200, 110, 0)
# The score axis shows at least the Stable and Mild bands, more when a session reached them.
MIN_SCORE_AXIS = 0.3


@dataclass(frozen=True)
class Point:
    """One analysed session on the chart."""

    taken_at: datetime
    change_score: float | None
    confidence: float
    is_baseline: bool
    is_current: bool


def history_chart(points: list[Point]) -> bytes:
    """The chart as PNG bytes (an empty frame with a sentence when there is no session yet)."""
    image = Image.new("RGB", SIZE, "white")
    draw = ImageDraw.Draw(image)
    font, small = ImageFont.load_default(size=22), ImageFont.load_default(size=18)
    left, top, right, bottom = MARGIN[0], MARGIN[1], SIZE[0] - MARGIN[2], SIZE[1] - MARGIN[3]
    scores = [p.change_score for p in points if p.change_score is not None]
    top_score = max([MIN_SCORE_AXIS, *(s * 1.15 for s in scores)])

    def y_of(value: float, scale: float) -> float:
        """The pixel row of `value` on an axis from 0 to `scale`."""
        return bottom - (bottom - top) * min(value / scale, 1.0)

    for bound, label in VARIATION_BANDS:
        if 0 < bound < top_score:
            y = y_of(bound, top_score)
            draw.line([(left, y), (right, y)], fill=(225, 225, 225), width=2)
            draw.text((left + 8, y - 24), f"{label} from {bound:.2f}", fill=(160, 160, 160), font=small)
    draw.rectangle([left, top, right, bottom], outline=(120, 120, 120), width=2)
    draw.text((left - 70, 4), "change", fill=SCORE_COLOUR, font=font)
    draw.text((right - 80, 4), "confidence", fill=CONFIDENCE_COLOUR, font=font)
    for value in (0.0, top_score / 2, top_score):
        draw.text((left - 70, y_of(value, top_score) - 11), f"{value:.2f}", fill=SCORE_COLOUR, font=small)
    for value in (0.0, 0.5, 1.0):
        draw.text((right + 10, y_of(value, 1.0) - 11), f"{value:.1f}", fill=CONFIDENCE_COLOUR, font=small)
    if not points:
        draw.text((left + 20, (top + bottom) / 2), "No analysed session yet.", fill=(90, 90, 90), font=font)
        return _png(image)

    step = (right - left) / max(len(points), 2)
    xs = [left + step * (i + 0.5) for i in range(len(points))]
    confidence = [(x, y_of(p.confidence, 1.0)) for x, p in zip(xs, points, strict=True)]
    if len(confidence) > 1:
        draw.line(confidence, fill=CONFIDENCE_COLOUR, width=3)
    # A first session (or a baseline) has no distance of its own: it sits at 0.
    change = [(x, y_of(p.change_score or 0.0, top_score)) for x, p in zip(xs, points, strict=True)]
    if len(change) > 1:
        draw.line(change, fill=SCORE_COLOUR, width=4)
    for (x, y), point in zip(change, points, strict=True):
        radius = 9 if point.is_current else 6
        draw.ellipse(
            [x - radius, y - radius, x + radius, y + radius], fill=MARK_COLOUR if point.is_current else SCORE_COLOUR
        )
        if point.is_baseline:
            draw.line([(x, top), (x, bottom)], fill=MARK_COLOUR, width=2)
            draw.text((x + 6, top + 4), "baseline", fill=MARK_COLOUR, font=small)
    labelled = range(0, len(points), max(1, len(points) // 8))
    for i in labelled:
        draw.text((xs[i] - 40, bottom + 12), points[i].taken_at.strftime("%d %b %y"), fill=(60, 60, 60), font=small)
    draw.text(
        (left, bottom + 50), "sessions, oldest first; today's is the larger orange dot", fill=(90, 90, 90), font=small
    )
    return _png(image)


def _png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "PNG", optimize=True)
    return buffer.getvalue()
