"""The region map: today's photo of an angle, aligned to the baseline, beside the baseline's, with the cells
shaded by how far they are above the user's noise floor, and a legend."""

import cv2
import numpy as np

from ..schemas.analysis import RegionReport
from . import registration

# Each photo panel is scaled to this height (px); the legend strip is below them, the gap between them.
PANEL_HEIGHT = 384
LEGEND_HEIGHT = 48
GAP = 8
# A panel is at most this many times as wide as it is high (a strip of a photo would otherwise be scaled to
# hundreds of thousands of px).
PANEL_MAX_ASPECT = 4
# Shading: the opacity of a cell just above its floor, the most any cell gets, and the colour (RGB).
ALPHA_AT_FLOOR = 0.25
ALPHA_MAX = 0.6
SHADE = np.array([255, 140, 0], np.float32)
GRID_COLOUR = (255, 255, 255)
LEGEND = ("Left: today, aligned to your baseline. Right: your baseline.", "Shaded: areas above your usual variation.")


def _panel(pixels: np.ndarray) -> np.ndarray:
    width = min(round(pixels.shape[1] * PANEL_HEIGHT / pixels.shape[0]), PANEL_MAX_ASPECT * PANEL_HEIGHT)
    return cv2.resize(pixels, (max(1, width), PANEL_HEIGHT), interpolation=cv2.INTER_AREA)


def _shade(panel: np.ndarray, regions: list[RegionReport]) -> np.ndarray:
    height, width = panel.shape[:2]
    shaded = panel.astype(np.float32)
    for region in regions:
        x0, y0, x1, y1 = (round(region.bbox[i] * (width if i % 2 == 0 else height)) for i in range(4))
        if region.exceeds_noise_floor:
            excess = region.change / region.noise_floor
            alpha = float(np.clip(ALPHA_AT_FLOOR + 0.25 * (excess - 1.0), ALPHA_AT_FLOOR, ALPHA_MAX))
            shaded[y0:y1, x0:x1] = shaded[y0:y1, x0:x1] * (1 - alpha) + SHADE * alpha
        cv2.rectangle(shaded, (x0, y0), (x1 - 1, y1 - 1), GRID_COLOUR, 1)
    return shaded.astype(np.uint8)


def region_map(today: np.ndarray, reference: np.ndarray, regions: list[RegionReport]) -> np.ndarray:
    """One angle's map (RGB): today's working photo aligned onto the baseline's, its cells shaded, beside the
    baseline's photo, with the legend."""
    alignment = registration.align(today, reference)
    aligned, _ = registration.warp_to(today, alignment, reference.shape[:2])
    left, right = _shade(_panel(aligned), regions), _shade(_panel(reference), [])
    canvas = np.full((PANEL_HEIGHT + LEGEND_HEIGHT, left.shape[1] + GAP + right.shape[1], 3), 255, np.uint8)
    canvas[:PANEL_HEIGHT, : left.shape[1]] = left
    canvas[:PANEL_HEIGHT, left.shape[1] + GAP :] = right
    for line, text in enumerate(LEGEND):
        cv2.putText(canvas, text, (GAP, PANEL_HEIGHT + 18 + 20 * line), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (40, 40, 40), 1)
    return canvas


def side_by_side(photos: list[np.ndarray]) -> np.ndarray:
    """Photos (RGB) at one height, side by side on white."""
    panels = [_panel(photo) for photo in photos]
    canvas = np.full((PANEL_HEIGHT, sum(p.shape[1] for p in panels) + GAP * (len(panels) - 1), 3), 255, np.uint8)
    left = 0
    for panel in panels:
        canvas[:, left : left + panel.shape[1]] = panel
        left += panel.shape[1] + GAP
    return canvas


def encoded(pixels: np.ndarray, extension: str = ".png", quality: int = 85) -> bytes:
    """An RGB picture as PNG or JPEG bytes."""
    ok, data = cv2.imencode(extension, cv2.cvtColor(pixels, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise RuntimeError("the picture could not be encoded")
    return data.tobytes()


def region_map_png(today: np.ndarray, reference: np.ndarray, regions: list[RegionReport]) -> bytes:
    """The PNG of one angle's region map."""
    return encoded(region_map(today, reference, regions))


# The capture guide: this long side (px), the edge detector's thresholds, how soft its lines are and how opaque.
GUIDE_SIZE = 720
GUIDE_EDGES = (40, 110)
GUIDE_SOFTNESS = 2.0
GUIDE_OPACITY = 230


def capture_guide_png(pixels: np.ndarray) -> bytes:
    """An overlay for the camera: the outline and main features of an earlier photo as soft white lines on
    transparency (RGBA PNG, GUIDE_SIZE on its long side), so the next photo is framed the same way."""
    scale = GUIDE_SIZE / max(pixels.shape[:2])
    size = (round(pixels.shape[1] * scale), round(pixels.shape[0] * scale))
    grey = cv2.GaussianBlur(
        cv2.cvtColor(cv2.resize(pixels, size, interpolation=cv2.INTER_CUBIC), cv2.COLOR_RGB2GRAY), (0, 0), 2.0
    )
    edges = cv2.Canny(grey, *GUIDE_EDGES)
    soft = cv2.GaussianBlur(cv2.dilate(edges, np.ones((3, 3), np.uint8)).astype(np.float32), (0, 0), GUIDE_SOFTNESS)
    alpha = np.clip(soft / max(float(soft.max()), 1.0) * GUIDE_OPACITY * 1.5, 0, GUIDE_OPACITY).astype(np.uint8)
    overlay = np.dstack([np.full_like(alpha, 255)] * 3 + [alpha])
    ok, encoded = cv2.imencode(".png", overlay)
    if not ok:
        raise RuntimeError("the capture guide could not be encoded")
    return encoded.tobytes()
