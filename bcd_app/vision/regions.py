"""Region comparison of a registered pair that does not see the camera: both photos at one scale and blur, a
smooth light and colour field fitted robustly between them and removed, a dense flow for what the homography
leaves (its smooth part is pose, its local part is kept as evidence of a change of shape), then the change map
scanned at several scales (change_scan.py) and per cell the largest colour, texture and shape finding, each in
units of its own re-capture noise."""

import functools
from dataclasses import dataclass, replace

import cv2
import numpy as np

from ..constants import REGION_CELLS, REGION_GRID
from . import change_scan
from .preprocessing import encode_working
from .registration import Alignment, registrable, rescaled, shrink, warp_to

GRID = REGION_GRID
# This comparison's version: an outcome kept by another version (photo_comparisons) is computed again. Change it
# with any constant or step below.
COMPARISON_VERSION = "change-scan-3"
# Both photos are compared at this longer side (px): fine enough for a spot of 1% of the photo and for skin
# texture, small enough for a dense flow in a few milliseconds.
REGION_SIZE = 256
# One blur for both (px at REGION_SIZE): another phone's resolution and JPEG quality stay below it.
COMMON_BLUR_SIGMA = 1.0
# The frame's outer band (share of each side) is left out: re-framing moves content in and out there.
EDGE_MARGIN = 0.04
# The overlap's border (share of the frame's longer side) is left out too: a re-take's residue lives there (framing,
# the dense flow's reach, the body's outline against the room), not a change.
OVERLAP_MARGIN = 0.04
# Pixels at or above this value in any channel carry no colour (clipped), in either photo.
CLIPPED = 250
# A cell whose overlap with the aligned photo is below this share, or below this many pixels, is not compared.
MIN_COVERAGE = 0.3
MIN_PIXELS = 48
# Light field: log(reference / today) per channel, a quadratic in x and y (a lamp from one side, white balance,
# exposure), fitted on every LIGHT_STRIDE-th pixel and refitted on the best-fitting share: a local change, a
# minority of the overlap at a smaller scale than the field, is left out of the fit.
LIGHT_EPS = 2.0
LIGHT_STRIDE = 13
# The largest gain the light field may apply (either way).
MAX_GAIN = 16.0
# The gain field is evaluated every this many px and resized (it is a quadratic: nothing finer to lose).
GAIN_STEP = 8
TRIM_ROUNDS = 3
TRIM_KEEP = 0.6
# Farneback's window (px at half of REGION_SIZE): about the scale of a local change of shape worth measuring.
FLOW_WINDOW = 9
# A flow whose way back misses its start by more than this (px at half of REGION_SIZE) followed nothing real.
FLOW_CONSISTENCY_PX = 0.5
# The smooth part of the dense flow (pose, perspective, the body's small posture changes) is a quadratic too.
FLOW_KEEP = 0.7
# What the flow follows beyond a quadratic at scales larger than this (sigma, share of the frame's longer side) is
# the body bending with breath and posture; only what is left is a local change of shape.
FLOW_SMOOTH_SCALE = 0.1
# Texture energy (Sobel of the luma) is smoothed over this many px at the working size.
TEXTURE_SIGMA = 1.5
# In luma units (0-255) per px of Sobel: flat skin's relative texture change stays quiet below it.
TEXTURE_EPS = 20.0
# Texture is read on working copies blurred by this much (px at the working size): JPEG's 8 px blocks and another
# phone's sharpening stay below it, skin's bumps and pits do not.
FINE_BLUR_SIGMA = 0.8
# Gradient energy (Sobel of CIELAB lightness, smoothed) at which the flow is fully trusted.
FLOW_TEXTURE = 20.0
# The model's evidence (cosine distance of a cell's pooled features) in the change map's noise units, calibrated with
# the map's statistics as one more of them (change_scan.NOISE).
SEMANTIC_NOISE = 0.246


@dataclass(frozen=True)
class Cell:
    """One cell's measured change against the reference (all in reference-frame terms): the change in noise units
    and the evidence it is the largest of: the largest colour, texture and shape finding in the cell (the change
    map's scan, in noise units) and the cosine distance of the model's pooled features."""

    row: int
    col: int
    bbox: tuple[float, float, float, float]
    change: float
    appearance: float
    texture: float
    shape: float
    semantic: float | None
    coverage: float


@dataclass(frozen=True)
class Registered:
    """How today's photo was brought onto the reference at REGION_SIZE: the homography there, the light field's
    coefficients (channel x quadratic terms, on coordinates in [-1, 1]), the dense flow, the mask it covers, and
    the flow's local part (what the smooth pose change does not explain)."""

    matrix: np.ndarray
    light: np.ndarray
    flow: np.ndarray
    mask: np.ndarray
    local_flow: np.ndarray


@dataclass(frozen=True)
class Comparison:
    """Every cell's change, how the pair was registered, and today's working copy brought onto the reference."""

    cells: list[Cell]
    registered: Registered
    canonical: np.ndarray


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


def _terms(xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
    """The quadratic's terms at normalised coordinates: (n, 6)."""
    return np.stack([np.ones_like(xs), xs, ys, xs * xs, xs * ys, ys * ys], axis=1)


@functools.lru_cache(maxsize=8)
def _pixel_grid(shape: tuple[int, int]) -> np.ndarray:
    """Every pixel's (y, x) in a frame of this size, float32 (kept per frame size, as _grid_terms)."""
    grid = np.mgrid[0 : shape[0], 0 : shape[1]].astype(np.float32)
    grid.flags.writeable = False
    return grid


@functools.lru_cache(maxsize=16)
def _grid_terms(shape: tuple[int, int]) -> np.ndarray:
    """The quadratic's terms at every pixel of a frame: (height * width, 6), coordinates in [-1, 1] (kept per
    frame size: every comparison of a deployment uses the same few)."""
    height, width = shape
    ys, xs = _pixel_grid(shape)
    return _terms((xs.ravel() + 0.5) / width * 2 - 1, (ys.ravel() + 0.5) / height * 2 - 1)


def _trimmed_fit(terms: np.ndarray, target: np.ndarray, keep_share: float) -> np.ndarray:
    """Least squares (normal equations, six unknowns) refitted on the best-fitting share of the samples: a local
    change is left out."""
    terms, target = terms.astype(np.float64), target.astype(np.float64)
    keep = np.ones(target.size, bool)
    coefficients = np.zeros(terms.shape[1])
    for _ in range(TRIM_ROUNDS):
        kept = terms[keep]
        coefficients = np.linalg.solve(kept.T @ kept + 1e-9 * np.eye(terms.shape[1]), kept.T @ target[keep])
        residual = np.abs(terms @ coefficients - target)
        cut = int(keep_share * (residual.size - 1))
        keep = residual <= np.partition(residual, cut)[cut]
    return coefficients.astype(np.float32)


def fit_light(moving: np.ndarray, reference: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """(3, 6) coefficients per channel of log(reference / moving) ~ quadratic(x, y): the smooth gain field (white
    balance, exposure, a lamp from one side) that brings `moving`'s light onto `reference`'s. Both photos as shot
    (not brightness-normalised): light acts on them as a gain per channel."""
    terms = _grid_terms(mask.shape)
    picked = np.flatnonzero(mask)[::LIGHT_STRIDE]
    if picked.size < MIN_PIXELS:
        return np.zeros((3, 6), np.float32)
    ratio = np.log(reference.reshape(-1, 3)[picked] + LIGHT_EPS) - np.log(moving.reshape(-1, 3)[picked] + LIGHT_EPS)
    return np.stack([_trimmed_fit(terms[picked], ratio[:, c], TRIM_KEEP) for c in range(3)])


def apply_light(pixels: np.ndarray, light: np.ndarray) -> np.ndarray:
    """`pixels` (float32 RGB) under the reference's light: each channel times its fitted gain field (smooth, so
    evaluated on a coarse grid and resized)."""
    height, width = pixels.shape[:2]
    coarse = (max(2, height // GAIN_STEP), max(2, width // GAIN_STEP))
    # A gain beyond MAX_GAIN either way is no lamp (a flat or black photo fits anything): kept finite.
    log_gains = np.clip(_grid_terms(coarse) @ light.T, -np.log(MAX_GAIN), np.log(MAX_GAIN))
    gains = np.exp(log_gains).reshape(*coarse, 3).astype(np.float32)
    gains = cv2.resize(gains, (width, height), interpolation=cv2.INTER_LINEAR)
    return np.clip((pixels + LIGHT_EPS) * gains - LIGHT_EPS, 0, 255)


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


def _grey(pixels: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(np.clip(pixels, 0, 255).astype(np.uint8), cv2.COLOR_RGB2GRAY)


def _farneback(reference: np.ndarray, moving: np.ndarray) -> np.ndarray:
    return cv2.calcOpticalFlowFarneback(
        reference, moving, None, pyr_scale=0.5, levels=3, winsize=FLOW_WINDOW, iterations=3, poly_n=5,
        poly_sigma=1.1, flags=cv2.OPTFLOW_FARNEBACK_GAUSSIAN,
    )  # fmt: skip


def dense_flow(moving: np.ndarray, reference: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The flow with reference(x) ~ moving(x + flow(x)) (Farneback's polynomial expansion: smooth, no outliers
    from flat skin), computed at half of REGION_SIZE, and its local part: the flow less a quadratic fitted
    robustly over the overlap (what a smooth change of pose explains) and less what remains at large scales (the
    body bending with breath and posture), kept only where the flow back agrees with it (elsewhere the flow
    followed nothing real). Outside the overlap today's photo is the reference's, so no border pulls."""
    filled = np.where(mask[:, :, None], moving, reference)
    height, width = mask.shape
    half = (width // 2, height // 2)
    grey_r = cv2.resize(_grey(reference), half, interpolation=cv2.INTER_AREA)
    grey_m = cv2.resize(_grey(filled), half, interpolation=cv2.INTER_AREA)
    forward, backward = _farneback(grey_r, grey_m), _farneback(grey_m, grey_r)
    # Forward then back should return to the start: the gap is how far the flow can be believed.
    gap = np.linalg.norm(forward + follow_flow(backward, forward), axis=2)
    consistent = cv2.resize((gap < FLOW_CONSISTENCY_PX).astype(np.uint8), (width, height)) > 0
    flow = cv2.resize(forward, (width, height), interpolation=cv2.INTER_LINEAR) * 2.0
    picked = np.flatnonzero(mask & consistent)[::LIGHT_STRIDE]
    if picked.size < MIN_PIXELS:
        return flow, np.zeros_like(flow)
    terms = _grid_terms(mask.shape)
    smooth = np.stack(
        [terms @ _trimmed_fit(terms[picked], flow[:, :, k].ravel()[picked], FLOW_KEEP) for k in range(2)], axis=1
    )
    rest = ((flow - smooth.reshape(flow.shape)) * mask[:, :, None]).astype(np.float32)
    # The body's smooth bending (breath, posture) is what the rest holds at large scales: a normalised blur of it.
    sigma = FLOW_SMOOTH_SCALE * max(mask.shape)
    support = change_scan.blur(mask.astype(np.float32), sigma)[:, :, None]
    bending = change_scan.blur(rest, sigma) / np.maximum(support, 1e-3)
    return flow, (rest - bending) * (consistent & mask)[:, :, None]


def follow_flow(pixels: np.ndarray, flow: np.ndarray) -> np.ndarray:
    """`pixels` resampled along a flow: the value at x is taken from x + flow(x)."""
    ys, xs = _pixel_grid(flow.shape[:2])
    return cv2.remap(pixels, xs + flow[:, :, 0], ys + flow[:, :, 1], cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)


def _lab(pixels: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(np.clip(pixels, 0, 255).astype(np.float32) / 255.0, cv2.COLOR_RGB2Lab)


def _texture_energy(lightness: np.ndarray) -> np.ndarray:
    gx = cv2.Sobel(lightness, cv2.CV_32F, 1, 0)
    gy = cv2.Sobel(lightness, cv2.CV_32F, 0, 1)
    return cv2.GaussianBlur(cv2.magnitude(gx, gy), (0, 0), TEXTURE_SIGMA)


def register(
    moving: np.ndarray, reference: np.ndarray, alignment: Alignment
) -> tuple[np.ndarray, np.ndarray, Registered]:
    """Both photos at REGION_SIZE and one blur, today's brought onto the reference (homography, light field, dense
    flow): (aligned today, reference, how), float32 RGB."""
    small_m, factor_m = shrink(moving, REGION_SIZE)
    small_r, factor_r = shrink(reference, REGION_SIZE)
    matrix = rescaled(alignment.matrix, factor_m, factor_r)
    warped, mask = warp_to(small_m, Alignment(alignment.ok, alignment.method, 0, None, matrix), small_r.shape[:2])
    margin = max(1, round(OVERLAP_MARGIN * max(mask.shape)))
    mask = cv2.erode(mask.astype(np.uint8), np.ones((2 * margin + 1,) * 2, np.uint8)) > 0
    mask &= _usable(small_r, warped)
    blurred_m = cv2.GaussianBlur(warped.astype(np.float32), (0, 0), COMMON_BLUR_SIGMA)
    blurred_r = cv2.GaussianBlur(small_r.astype(np.float32), (0, 0), COMMON_BLUR_SIGMA)
    light = fit_light(blurred_m, blurred_r, mask)
    lit = apply_light(blurred_m, light)
    flow, local = dense_flow(lit, blurred_r, mask)
    return follow_flow(lit, flow), blurred_r, Registered(matrix, light, flow, mask, local)


def change_evidence(
    moving: np.ndarray, reference: np.ndarray, alignment: Alignment
) -> tuple[change_scan.Evidence, Registered, np.ndarray]:
    """The change map's evidence of a registrable pair (colour and shape at REGION_SIZE, texture read at the working
    size, where skin's fine bumps and pits are a few px), how today's photo was registered, and today's working copy
    brought onto the reference."""
    aligned, base, registered = register(moving, reference, alignment)
    lab_m, lab_r = _lab(aligned), _lab(base)
    edges = _texture_energy(lab_r[:, :, 0])
    # The flow is measured only where there is texture to follow; on flat skin its local part is noise.
    trust = np.clip(edges / FLOW_TEXTURE, 0.0, 1.0)
    body = change_scan.body_mask(lab_m, lab_r, registered.mask)
    brought = canonical(moving, reference, alignment, registered, change_scan.filled(body))
    # Texture is read on the luma (a tenth of CIELAB's cost at the working size; its gradients are the same).
    fine_m = cv2.GaussianBlur(_grey(brought).astype(np.float32), (0, 0), FINE_BLUR_SIGMA)
    fine_r = cv2.GaussianBlur(_grey(reference).astype(np.float32), (0, 0), FINE_BLUR_SIGMA)
    energy_m, energy_r = _texture_energy(fine_m), _texture_energy(fine_r)
    fine_texture = (energy_m - energy_r) / (energy_m + energy_r + TEXTURE_EPS)
    texture = cv2.resize(fine_texture, registered.mask.shape[::-1], interpolation=cv2.INTER_AREA)
    local_flow = registered.local_flow * trust[:, :, None]
    found = change_scan.evidence(lab_m, lab_r, edges, texture, local_flow, body)
    return found, registered, brought


def compare(moving: np.ndarray, reference: np.ndarray, alignment: Alignment) -> Comparison:
    """Every cell of the reference frame: how much `moving` (registered from `alignment`) differs there, from the
    change map's scan. Both are working copies as shot (not brightness-normalised). The model's evidence is added by
    with_semantic, from the canonical copy this returns. A strip or a thumbnail (either photo) is not compared:
    every cell is uncovered."""
    if not (registrable(moving) and registrable(reference)):
        return uncompared(reference)
    found, registered, brought = change_evidence(moving, reference, alignment)
    scanned = change_scan.scan(found)
    mask = registered.mask
    cells = []
    for row, col, box in cell_boxes():
        x0, x1 = round(box[0] * mask.shape[1]), round(box[2] * mask.shape[1])
        y0, y1 = round(box[1] * mask.shape[0]), round(box[3] * mask.shape[0])
        inside = mask[y0:y1, x0:x1]
        coverage = float(inside.mean()) if inside.size else 0.0
        if coverage < MIN_COVERAGE or inside.sum() < MIN_PIXELS:
            cells.append(Cell(row, col, box, 0.0, 0.0, 0.0, 0.0, None, coverage))
            continue
        appearance, texture, shape = (float(scanned[kind][y0:y1, x0:x1].max()) for kind in change_scan.KINDS)
        cells.append(Cell(row, col, box, max(appearance, texture, shape), appearance, texture, shape, None, coverage))
    return Comparison(cells, registered, brought)


def uncompared(reference: np.ndarray) -> Comparison:
    """A comparison that measured nothing: every cell uncovered, the reference standing for today's photo (a
    strip or a thumbnail; a comparison that failed)."""
    small = shrink(reference, REGION_SIZE)[0]
    height, width = small.shape[:2]
    flow = np.zeros((height, width, 2), np.float32)
    registered = Registered(np.eye(3), np.zeros((3, 6), np.float32), flow, np.zeros((height, width), bool), flow)
    cells = [Cell(row, col, box, 0.0, 0.0, 0.0, 0.0, None, 0.0) for row, col, box in cell_boxes()]
    return Comparison(cells, registered, reference)


def cell_distances(canonical_map: np.ndarray, reference_cells: np.ndarray, frame: tuple) -> np.ndarray:
    """The model's evidence per cell: the cosine distance between the feature map of today's photo brought onto the
    reference (frame and light: what the camera did is gone), pooled per cell, and the reference's own cell
    vectors; NaN where either side saw nothing of the cell."""
    today = own_cells(canonical_map, frame)
    known = today.any(axis=1) & reference_cells.any(axis=1)
    distances = np.maximum(0.0, 1.0 - np.sum(today * reference_cells, axis=1))
    return np.where(known, distances, np.nan)


def with_semantic(
    cells: list[Cell], canonical_map: np.ndarray, reference_cells: np.ndarray, frame: tuple
) -> list[Cell]:
    """The cells with the model's evidence (cell_distances) added where the cell is compared, in units of its
    re-capture noise."""
    distances = cell_distances(canonical_map, reference_cells, frame)
    added = []
    for cell in cells:
        semantic = float(distances[cell.row * GRID + cell.col])
        if cell.coverage < MIN_COVERAGE or np.isnan(semantic):
            added.append(cell)
            continue
        added.append(replace(cell, semantic=semantic, change=max(cell.change, semantic / SEMANTIC_NOISE)))
    return added


def canonical(
    moving: np.ndarray, reference: np.ndarray, alignment: Alignment, registered: Registered, body: np.ndarray
) -> np.ndarray:
    """Today's working copy as the reference's frame and light would show it (homography, light field and the
    flow, from the region comparison), the reference's own pixels where today's photo does not reach or shows no
    body (`body`, at REGION_SIZE: the room, the arms' gaps, the overlap's border): what the model is given, so the
    whole-angle distance sees what changed on the body, not how the photo was taken."""
    height, width = reference.shape[:2]
    warped, covered = warp_to(moving, alignment, (height, width))
    covered &= cv2.resize(body.astype(np.uint8), (width, height), interpolation=cv2.INTER_NEAREST) > 0
    lit = apply_light(warped.astype(np.float32), registered.light)
    factor = width / registered.flow.shape[1]
    flow = cv2.resize(registered.flow, (width, height), interpolation=cv2.INTER_LINEAR) * factor
    moved = np.clip(follow_flow(lit, flow), 0, 255).astype(np.uint8)
    return cv2.copyTo(moved, covered.astype(np.uint8), reference.copy())


@dataclass(frozen=True)
class AnglePhoto:
    """One photo of today's session as the region comparison needs it: its working copy as shot (not
    brightness-normalised: light acts on it as a gain)."""

    working: np.ndarray

    def cell_vectors(self, feature_map: np.ndarray | None) -> bytes | None:
        """What later sessions compare their cells with: the cell vectors pooled from the model's map of this photo
        as its angle's vector was taken (float16 bytes; None for a model without maps)."""
        cells = None if feature_map is None else own_cells(feature_map, self.working.shape[:2])
        return None if cells is None else cells.astype(np.float16).tobytes()

    def small_copy(self) -> bytes:
        """A copy at REGION_SIZE (as working copies are kept), read when the photo itself cannot be."""
        return encode_working(shrink(self.working, REGION_SIZE)[0])


def decode_cells(data: bytes) -> np.ndarray:
    """Cell vectors as AnglePhoto.cell_vectors wrote them: (cells, channels) float32."""
    return np.frombuffer(data, np.float16).astype(np.float32).reshape(REGION_CELLS, -1)
