"""The change map of a registered pair and its scan: per-pixel evidence of colour, texture and shape, weighed by
where re-capture noise lives (strong edges, outside the body), averaged at several scales (a 1% spot to a 10%
patch) and read in units of that scale's re-capture noise. A decision over the whole map is then a max-statistic
over scales and positions, calibrated on quiet re-takes (bench/trust_eval.py --calibrate), as cluster-level
inference controls false positives over a statistical map."""

from dataclasses import dataclass

import cv2
import numpy as np

# The scales (Gaussian sigma, px at the comparison's size, 256 px on the longer side): a 1% spot is about 20 px
# across there, a 10% patch about 70.
SCALES = (2.0, 4.0, 8.0, 16.0)
# What each scale's average is read against: the same average over SURROUND times the scale, so a change is what
# differs from its neighbourhood (a lamp's shading over the breasts and what is left of the light field are wider).
SURROUND = 3.0
# Lightness counts fully at the small scales (a mole is dark) and less at the large ones, where a moved lamp's
# shading of a curved body lives; the colour (CIELAB a*, b*) counts at every scale (redness is colour).
LIGHTNESS_WEIGHT = (1.0, 1.0, 0.5, 0.0)
# Up to this scale the colour difference is shift-tolerant: today's value counts only by how far it lies outside
# the reference's range within ENVELOPE_RADIUS px (and the reverse), so a registration left a few px off is no
# change; a new spot on flat skin lies outside in full. The radius is about the registration's residue (median
# 7.6 px at 512, against the phantom's camera). Larger scales average the signed difference, which a shift cancels.
ENVELOPE_RADIUS = 4
ENVELOPE_UP_TO = 8.0
# Strong reference edges (Sobel of CIELAB lightness, smoothed) weigh less, as 1 / (1 + (edge / EDGE_SCALE)^2):
# a fraction of a pixel of registration is a large difference there.
EDGE_SCALE = 20.0
# The body: pixels whose CIELAB chroma is at least this in both photos (skin has colour; a wall, a door and the
# shadows between arm and torso have little), eroded by SKIN_ERODE px. Used when it covers at least SKIN_SHARE of
# the overlap (a photo of the body), else every overlapping pixel counts.
SKIN_CHROMA = 8.0
SKIN_ERODE = 3
SKIN_SHARE = 0.6
# Wide windows are averaged on a copy shrunk to this many px per sigma.
BLUR_PX = 2.0
# Each scale's statistics are read on a grid of about this many px per sigma (blocks averaged): a finding is wider
# than a few of them, so nothing is lost, and the large scales cost what the small ones do.
GRID_PX_PER_SIGMA = 4.0
# A scale's average is only read where at least half of its window is compared (the overlap's border is noise).
MIN_SUPPORT = 0.5
# A finding's core: where its statistic is at least CORE_SHARE of its peak within CORE_REACH scales. Outside the
# core a change's blur at the large scales is not a finding of its own (the cells beside a strong patch stay quiet).
CORE_SHARE = 0.8
CORE_REACH = 3.0
# Each statistic's re-capture noise per scale (SCALES order): bench/trust_eval.py --calibrate, quiet home re-takes of
# the calibration half (photos and phantom people, every factor at once); a statistic at the prior floor
# (scoring/noise_floor.py) is flagged in about 1 of 60 quiet views (sessions of six views: about 1 in 10).
NOISE = {
    "appearance": (5.28, 4.88, 2.04, 1.38),
    "texture": (0.536, 0.376, 0.214, 0.135),
    "shape": (1.79, 0.609, 0.244, 0.106),
}
KINDS = tuple(NOISE)


@dataclass(frozen=True)
class Evidence:
    """Per-pixel evidence at the comparison's size, today against the reference: CIELAB difference (signed), its
    shift-tolerant part, the relative texture change (signed, its photo-wide part removed), the local flow's
    divergence (skin drawn toward a point or pushed away from it; where there is texture to follow), each pixel's
    weight and the compared mask."""

    colour: np.ndarray
    tolerant: np.ndarray
    texture: np.ndarray
    spread: np.ndarray
    weight: np.ndarray
    mask: np.ndarray


def body_mask(lab_today: np.ndarray, lab_reference: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """The compared pixels that show skin in both photos, or `mask` itself when that is not most of it."""

    def coloured(lab: np.ndarray) -> np.ndarray:
        return np.hypot(lab[:, :, 1], lab[:, :, 2]) >= SKIN_CHROMA

    body = (coloured(lab_today) & coloured(lab_reference)).astype(np.uint8)
    body = cv2.erode(body, np.ones((2 * SKIN_ERODE + 1,) * 2, np.uint8)) > 0
    kept = mask & body
    return kept if kept.sum() >= SKIN_SHARE * mask.sum() else mask


def _outside(values: np.ndarray, other: np.ndarray, radius: int) -> np.ndarray:
    """How far each channel of `values` lies outside `other`'s range over a disk of `radius` (signed)."""
    disk = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))
    low = cv2.erode(other, disk)
    high = cv2.dilate(other, disk)
    return np.maximum(values - high, 0) - np.maximum(low - values, 0)


def shift_tolerant(today: np.ndarray, reference: np.ndarray, radius: int = ENVELOPE_RADIUS) -> np.ndarray:
    """The signed CIELAB difference a shift of up to `radius` px cannot explain: today outside the reference's local
    range, or the reference outside today's (what appeared, or what went), whichever is larger."""
    appeared = _outside(today, reference, radius)
    went = -_outside(reference, today, radius)
    return np.where(np.abs(appeared) >= np.abs(went), appeared, went)


def filled(body: np.ndarray) -> np.ndarray:
    """The body with its holes filled (whatever it encloses: a mole, a nipple, a clipped highlight), so a change on
    it is read even where it took the skin's colour away."""
    outside = np.pad((~body).astype(np.uint8), 1, constant_values=1)
    reached = outside.copy()
    cv2.floodFill(reached, None, (0, 0), 2)
    return body | (reached[1:-1, 1:-1] == 1)


def evidence(
    lab_today: np.ndarray,
    lab_reference: np.ndarray,
    edges: np.ndarray,
    texture: np.ndarray,
    flow: np.ndarray,
    body: np.ndarray,
) -> Evidence:
    """The change map's evidence from a registered pair at one size over the compared body (body_mask): CIELAB of
    both, the reference's edge energy, the relative texture change and the local flow (already read where there is
    texture to follow). A dimple draws the skin toward its centre: the flow's average over it cancels, its
    divergence does not."""
    weight = body.astype(np.float32) / (1.0 + (edges / EDGE_SCALE) ** 2)
    centred = texture - float(np.median(texture[body])) if body.any() else texture
    return Evidence(
        colour=lab_today - lab_reference,
        tolerant=shift_tolerant(lab_today, lab_reference),
        texture=centred.astype(np.float32),
        spread=(np.gradient(flow[:, :, 0], axis=1) + np.gradient(flow[:, :, 1], axis=0)).astype(np.float32),
        weight=weight.astype(np.float32),
        mask=body,
    )


def blur(values: np.ndarray, sigma: float) -> np.ndarray:
    """A Gaussian blur of `sigma` px, taken on a copy shrunk to about BLUR_PX px per sigma (area average) and brought
    back: a wide window costs what a narrow one does."""
    factor = max(1, int(sigma / BLUR_PX))
    if factor == 1:
        return cv2.GaussianBlur(values, (0, 0), sigma)
    blurred = cv2.GaussianBlur(_coarse(values, factor), (0, 0), sigma / factor)
    return cv2.resize(blurred, values.shape[1::-1], interpolation=cv2.INTER_LINEAR)


def _coarse(values: np.ndarray, factor: int) -> np.ndarray:
    """`values` averaged over factor x factor blocks (itself for a factor of 1)."""
    if factor == 1:
        return values
    height, width = values.shape[:2]
    return cv2.resize(values, (max(1, width // factor), max(1, height // factor)), interpolation=cv2.INTER_AREA)


def _grid_factor(scale: float) -> int:
    """How much coarser than the comparison's grid a scale's statistics are read (GRID_PX_PER_SIGMA)."""
    return max(1, int(scale / GRID_PX_PER_SIGMA))


def statistics(found: Evidence) -> dict[tuple[str, float], np.ndarray]:
    """Each evidence's statistic map at each scale, in its own units (0 where the window is mostly uncompared), on
    that scale's own grid (GRID_PX_PER_SIGMA: a scale's map has nothing finer to show)."""
    maps = {}
    for scale, lightness in zip(SCALES, LIGHTNESS_WEIGHT, strict=True):
        factor = _grid_factor(scale)
        sigma = scale / factor
        weight = _coarse(found.weight, factor)
        colour = found.tolerant if scale <= ENVELOPE_UP_TO else found.colour
        # Weighted before averaging: a block's value is its pixels' weighted mean, as the full grid would give.
        weighed = {
            "colour": _coarse(found.weight[:, :, None] * colour, factor),
            "texture": _coarse(found.weight * found.texture, factor),
            "spread": _coarse(found.weight * found.spread, factor),
        }
        support = _coarse(found.mask.astype(np.float32), factor)
        readable = (support > 0.5) & (blur(support, sigma) > MIN_SUPPORT)
        near = np.maximum(blur(weight, sigma), 1e-4)
        far = np.maximum(blur(weight, SURROUND * sigma), 1e-4)
        around = blur(weighed["colour"], SURROUND * sigma) / far[:, :, None]
        local = blur(weighed["colour"], sigma) / near[:, :, None] - around
        local[:, :, 0] *= lightness
        maps["appearance", scale] = np.where(readable, np.linalg.norm(local, axis=2), 0.0)
        maps["texture", scale] = np.where(readable, np.abs(blur(weighed["texture"], sigma) / near), 0.0)
        maps["shape", scale] = np.where(readable, np.abs(blur(weighed["spread"], sigma) / near), 0.0)
    return maps


def _core(statistic: np.ndarray, reach_px: float) -> np.ndarray:
    """The statistic where it is within CORE_SHARE of its peak within `reach_px`, 0 elsewhere."""
    reach = max(1, round(reach_px))
    peak = cv2.dilate(statistic, np.ones((2 * reach + 1, 2 * reach + 1), np.uint8))
    return np.where(statistic >= CORE_SHARE * peak, statistic, 0.0)


def scan(found: Evidence) -> dict[str, np.ndarray]:
    """Per evidence, the largest statistic over the scales at each pixel of the comparison's grid, in noise units,
    finding cores only."""
    maps = statistics(found)
    height, width = found.mask.shape
    scanned = {kind: np.zeros((height, width), np.float32) for kind in KINDS}
    for kind in KINDS:
        for i, scale in enumerate(SCALES):
            statistic = (maps[kind, scale] / NOISE[kind][i]).astype(np.float32)
            core = _core(statistic, CORE_REACH * scale / _grid_factor(scale)).astype(np.float32)
            if core.shape != (height, width):
                core = cv2.resize(core, (width, height), interpolation=cv2.INTER_NEAREST)
            np.maximum(scanned[kind], core, out=scanned[kind])
    return scanned
