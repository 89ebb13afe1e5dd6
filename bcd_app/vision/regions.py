"""Region comparison of an aligned pair: a grid of cells, each with a semantic distance (the model's last
feature map pooled per cell) and an appearance distance (CIELAB colour and texture), combined into one
cell change (scoring/noise_floor.py weighs it against the user's own variation)."""

from dataclasses import dataclass

import cv2
import numpy as np

from ..constants import REGION_CELLS, REGION_GRID
from .preprocessing import encode_working
from .registration import Alignment, rescaled, shrink, warp_to

GRID = REGION_GRID
# Appearance is compared on copies with this longer side (px): soft changes are low-frequency.
REGION_SIZE = 128
# Gaussian sigma (px at REGION_SIZE) applied before differencing: sub-pixel misregistration and
# sensor grain stay below it, a soft change over a tenth of the photo does not.
SMOOTHING_SIGMA = 1.0
TEXTURE_SIGMA = 2.0
TEXTURE_EPS = 2.0
# A cell whose overlap with the aligned photo is below this share is not compared.
MIN_COVERAGE = 0.3
# The frame's outer band (share of each side) is left out: re-framing moves content in and out there.
EDGE_MARGIN = 0.04
# Fewest compared pixels (at REGION_SIZE) for a statistic.
MIN_PIXELS = 12
# Pixels at or above this value in any channel carry no colour (clipped), in either photo.
CLIPPED = 250
SAMPLE_STRIDE = 5
# The light fit is refitted this many times on the best-fitting share of pixels.
TRIM_ROUNDS = 2
TRIM_KEEP = 0.6
# Bounds of the lightness and chroma gains that undo a global change of light.
LIGHT_GAIN_RANGE = (0.7, 1.4)
# The cell change is in CIE76 colour-difference units (top quarter of the cell, after matching light);
# texture (relative gradient-energy change) and semantic (cosine distance of the model's pooled
# features) add evidence only beyond their own re-capture range, these scales (bench/trust_eval.py:
# re-captures' corner cells, where re-framing brings in new content, reach about 0.5 and 0.3), at this
# many colour units per unit beyond it.
TEXTURE_SCALE = 0.5
SEMANTIC_SCALE = 0.35
EVIDENCE_WEIGHT = 2.0


@dataclass(frozen=True)
class Cell:
    """One cell's measured change against the reference (all in reference-frame terms)."""

    row: int
    col: int
    bbox: tuple[float, float, float, float]
    change: float
    appearance: float
    texture: float
    semantic: float | None
    coverage: float


def cell_boxes(grid: int = GRID) -> list[tuple[int, int, tuple[float, float, float, float]]]:
    """(row, col, [x0, y0, x1, y1] as fractions of the frame) for every cell, row by row."""
    edges = np.linspace(0.0, 1.0, grid + 1)
    return [
        (row, col, (float(edges[col]), float(edges[row]), float(edges[col + 1]), float(edges[row + 1])))
        for row in range(grid)
        for col in range(grid)
    ]


def _pool_weights(box: tuple[float, float, float, float], frame: tuple[int, int], grid: int) -> np.ndarray | None:
    """Weights over a (grid x grid) feature map for a box in frame pixels: the share of each feature cell it
    covers. The map sees the centre square the model was given (preprocessing.model_input's crop)."""
    height, width = frame
    side = min(height, width)
    left, top = (width - side) // 2, (height - side) // 2
    x0, y0, x1, y1 = (
        (box[0] - left) / side * grid,
        (box[1] - top) / side * grid,
        (box[2] - left) / side * grid,
        (box[3] - top) / side * grid,
    )
    edges = np.arange(grid + 1, dtype=np.float64)
    wx = np.clip(np.minimum(edges[1:], x1) - np.maximum(edges[:-1], x0), 0, 1)
    wy = np.clip(np.minimum(edges[1:], y1) - np.maximum(edges[:-1], y0), 0, 1)
    weights = np.outer(wy, wx)
    area = max((x1 - x0) * (y1 - y0), 1e-9)
    return weights / weights.sum() if weights.sum() >= MIN_COVERAGE * area else None


def pool_cells(feature_map: np.ndarray, frame: tuple[int, int], boxes_px: list[tuple]) -> np.ndarray:
    """(cells, channels) unit vectors pooled from a (channels, g, g) map over boxes in frame pixels;
    a row of zeros where the box lies outside what the model saw."""
    channels, grid = feature_map.shape[0], feature_map.shape[-1]
    flat = feature_map.reshape(channels, -1)
    out = np.zeros((len(boxes_px), channels), np.float32)
    for i, box in enumerate(boxes_px):
        weights = _pool_weights(box, frame, grid)
        if weights is not None:
            vector = flat @ weights.ravel()
            out[i] = vector / max(float(np.linalg.norm(vector)), 1e-12)
    return out


def own_cells(feature_map: np.ndarray, frame: tuple[int, int]) -> np.ndarray:
    """A photo's cell vectors over its own grid: what later sessions compare with."""
    height, width = frame
    boxes = [(b[0] * width, b[1] * height, b[2] * width, b[3] * height) for _, _, b in cell_boxes()]
    return pool_cells(feature_map, frame, boxes)


def _lab(pixels: np.ndarray) -> np.ndarray:
    lab = cv2.cvtColor(pixels.astype(np.float32) / 255.0, cv2.COLOR_RGB2Lab)
    return cv2.GaussianBlur(lab, (0, 0), SMOOTHING_SIGMA)


def _trimmed_fit(moving: list[np.ndarray], reference: list[np.ndarray]) -> tuple[float, list[float]]:
    """reference[i] ~ gain * moving[i] + offsets[i], one gain for all channels given: least squares refitted
    on the pixels that fit best, so a local change (a minority of the overlap) is left out."""
    keep = np.ones(moving[0].size, bool)
    gain, offsets = 1.0, [0.0] * len(moving)
    for _ in range(TRIM_ROUNDS):
        kept_m, kept_r = [m[keep] for m in moving], [r[keep] for r in reference]
        centred_m = [m - m.mean() for m in kept_m]
        products = sum(float(cm @ (r - r.mean())) for cm, r in zip(centred_m, kept_r, strict=True))
        spread = sum(float(cm @ cm) for cm in centred_m)
        gain = float(np.clip(products / spread, *LIGHT_GAIN_RANGE)) if spread > 0 else 1.0
        offsets = [float(r.mean() - gain * m.mean()) for m, r in zip(kept_m, kept_r, strict=True)]
        residual = sum(np.abs(r - (gain * m + o)) for m, r, o in zip(moving, reference, offsets, strict=True))
        cut = int(TRIM_KEEP * residual.size)
        keep = residual <= np.partition(residual, cut)[cut]
    return gain, offsets


def _match_light(moving: np.ndarray, reference: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Remove a global change of light and colour cast in CIELAB, fitted on the aligned overlap: lightness by a
    gain and offset, chroma by one gain (light scales saturation too) and a shift of a* and b*."""
    # Every SAMPLE_STRIDE-th overlapping pixel is plenty for two small fits.
    picked = np.flatnonzero(mask)[::SAMPLE_STRIDE]
    sample_m = [moving[:, :, c].ravel()[picked] for c in range(3)]
    sample_r = [reference[:, :, c].ravel()[picked] for c in range(3)]
    light_gain, light_offset = _trimmed_fit(sample_m[:1], sample_r[:1])
    chroma_gain, chroma_offsets = _trimmed_fit(sample_m[1:], sample_r[1:])
    gains = np.array([light_gain, chroma_gain, chroma_gain], np.float32)
    return moving * gains + np.array(light_offset + chroma_offsets, np.float32)


def _top_quarter_mean(values: np.ndarray) -> float:
    """Mean of the largest quarter: a change over a quarter of a cell counts in full, grain does not."""
    cut = int(0.75 * values.size)
    return float(np.partition(values, cut)[cut:].mean())


def _usable(reference: np.ndarray, warped: np.ndarray) -> np.ndarray:
    """Pixels worth comparing: inside the edge band, and clipped in neither photo (a clipped channel has no
    colour to compare, and a brighter re-capture clips more)."""
    height, width = reference.shape[:2]
    band_y, band_x = int(EDGE_MARGIN * height), int(EDGE_MARGIN * width)
    inner = np.zeros((height, width), bool)
    inner[band_y : height - band_y, band_x : width - band_x] = True
    below = (CLIPPED - 1,) * 3
    unclipped = cv2.inRange(reference, (0, 0, 0), below) & cv2.inRange(warped, (0, 0, 0), below)
    return inner & (cv2.erode(unclipped, np.ones((5, 5), np.uint8)) > 0)


def _gradient_energy(lightness: np.ndarray) -> np.ndarray:
    gx = cv2.Sobel(lightness, cv2.CV_32F, 1, 0)
    gy = cv2.Sobel(lightness, cv2.CV_32F, 0, 1)
    return cv2.GaussianBlur(np.hypot(gx, gy), (0, 0), TEXTURE_SIGMA)


def compare(
    moving: np.ndarray,
    reference: np.ndarray,
    alignment: Alignment,
    moving_map: np.ndarray | None,
    reference_cells: np.ndarray | None,
) -> list[Cell]:
    """Every cell of the reference frame: how much `moving` (aligned by `alignment`) differs there."""
    small_m, factor_m = shrink(moving, REGION_SIZE)
    small_r, factor_r = shrink(reference, REGION_SIZE)
    small_alignment = Alignment(
        alignment.ok,
        alignment.method,
        alignment.inliers,
        alignment.residual_px,
        rescaled(alignment.matrix, factor_m, factor_r),
    )
    warped, mask = warp_to(small_m, small_alignment, small_r.shape[:2])
    mask &= _usable(small_r, warped)
    lab_r = _lab(small_r)
    lab_m = _match_light(_lab(warped), lab_r, mask) if mask.sum() > MIN_PIXELS else _lab(warped)
    delta_e = np.linalg.norm(lab_m - lab_r, axis=2)
    energy_r, energy_m = _gradient_energy(lab_r[:, :, 0]), _gradient_energy(lab_m[:, :, 0])
    texture = np.abs(energy_m - energy_r) / (energy_m + energy_r + TEXTURE_EPS)

    height, width = reference.shape[:2]
    inverse = cv2.invertAffineTransform(alignment.matrix)
    cells = []
    for row, col, box in cell_boxes():
        x0, x1 = round(box[0] * small_r.shape[1]), round(box[2] * small_r.shape[1])
        y0, y1 = round(box[1] * small_r.shape[0]), round(box[3] * small_r.shape[0])
        inside = mask[y0:y1, x0:x1]
        coverage = float(inside.mean()) if inside.size else 0.0
        if coverage < MIN_COVERAGE or inside.sum() < MIN_PIXELS:
            cells.append(Cell(row, col, box, 0.0, 0.0, 0.0, None, coverage))
            continue
        appearance = _top_quarter_mean(delta_e[y0:y1, x0:x1][inside])
        texture_change = _top_quarter_mean(texture[y0:y1, x0:x1][inside])
        semantic = None
        if moving_map is not None and reference_cells is not None:
            corners = np.array(
                [
                    [box[0] * width, box[1] * height],
                    [box[2] * width, box[1] * height],
                    [box[0] * width, box[3] * height],
                    [box[2] * width, box[3] * height],
                ]
            )
            mapped = corners @ inverse[:, :2].T + inverse[:, 2]
            span = (*mapped.min(axis=0), *mapped.max(axis=0))
            today = pool_cells(moving_map, moving.shape[:2], [span])[0]
            earlier = reference_cells[row * GRID + col]
            if today.any() and earlier.any():
                semantic = float(max(0.0, 1.0 - today @ earlier))
        beyond = max(0.0, texture_change / TEXTURE_SCALE - 1.0) + max(0.0, (semantic or 0.0) / SEMANTIC_SCALE - 1.0)
        change = appearance + EVIDENCE_WEIGHT * beyond
        cells.append(Cell(row, col, box, change, appearance, texture_change, semantic, coverage))
    return cells


@dataclass(frozen=True)
class AnglePhoto:
    """One photo of today's session as the region comparison needs it: its small copy and its feature map."""

    pixels: np.ndarray
    feature_map: np.ndarray | None

    @classmethod
    def of(cls, working: np.ndarray, feature_map: np.ndarray | None) -> "AnglePhoto":
        """From the analysis's brightness-normalised working copy."""
        return cls(shrink(working, REGION_SIZE)[0], feature_map)

    def cells(self) -> np.ndarray | None:
        """This photo's own cell vectors (what later sessions compare with)."""
        return None if self.feature_map is None else own_cells(self.feature_map, self.pixels.shape[:2])

    def stored(self) -> tuple[bytes | None, bytes]:
        """What is kept for later sessions: the cell vectors (float16 bytes) and the small copy (as working copies
        are kept)."""
        cells = self.cells()
        return (None if cells is None else cells.astype(np.float16).tobytes()), encode_working(self.pixels)


def decode_cells(data: bytes) -> np.ndarray:
    """Cell vectors as AnglePhoto.stored wrote them: (cells, channels) float32."""
    return np.frombuffer(data, np.float16).astype(np.float32).reshape(REGION_CELLS, -1)
