"""A skin phantom, as imaging QA uses phantoms: a rendered torso whose truth is known. A height field (the chest
wall, two breast mounds with areolas, arms at the sides, a wall behind) with a skin albedo (tone variation, pores,
freckles, moles), shaded by a lamp (Lambertian) and seen by a pinhole camera with parallax. A re-take moves the phone
(turn, tilt, distance, framing), the lamp (direction, colour, exposure), the body (breath, posture) and the phone
model (resolution, JPEG, sensor noise); changes are made on the body, so they move with it: a new mole, redness,
peau d'orange (pits in albedo and normals), a dent and a bulge of the surface. Units: mm in the world, px in the
image."""

import io
from dataclasses import dataclass, replace

import cv2
import numpy as np
from PIL import Image

# The world the camera sees: this many mm wide and high, sampled every WORLD_STEP mm.
WORLD_WIDTH, WORLD_HEIGHT, WORLD_STEP = 720.0, 900.0, 0.75
# The rendered photo (portrait, as phones take a chest photo), and the camera's distance and focal length.
IMAGE_SIZE = (768, 1024)
DISTANCE = 700.0
FOCAL = IMAGE_SIZE[1] / 2 / (420.0 / DISTANCE)
# Skin albedo (linear RGB) from the lightest tone (0) to the darkest (1).
LIGHT_SKIN = np.array([0.78, 0.57, 0.47], np.float32)
DARK_SKIN = np.array([0.20, 0.12, 0.08], np.float32)
WALLS = (np.array([0.62, 0.60, 0.55], np.float32), np.array([0.45, 0.50, 0.55], np.float32))
# Every factor of a home re-take, and how far each goes at the home variation (uniform in +-range).
FACTORS = ("turn", "tilt", "distance", "framing", "lamp", "exposure", "breath", "posture", "device")
HOME = {
    "turn": 5.0,  # deg about the optical axis
    "tilt": 4.0,  # deg about x and y: a perspective of up to ~3% at the corners
    "distance": 0.06,  # share of the distance
    "framing": 0.05,  # share of the frame
    "lamp": 0.35,  # lamp direction's sideways part; its colour varies 8% per channel
    "exposure": 0.20,
    "breath": 0.015,  # the body's smooth bending, share of the frame
    "posture": 0.01,  # the body moved against the wall, share of the frame
}
CHANGES = ("mole", "redness", "peau", "dent", "bulge")


@dataclass(frozen=True)
class Body:
    """The scene as maps over the world grid: surface height (mm toward the camera), albedo (linear RGB), and a
    mask of where a change was made (0-1), each for the body (torso and arms) and the wall behind."""

    height: np.ndarray
    albedo: np.ndarray
    body: np.ndarray
    change: np.ndarray


@dataclass(frozen=True)
class Shot:
    """How one photo is taken: the camera's pose, the lamp, the body's breath and posture, and the phone."""

    turn: float = 0.0
    tilt: tuple[float, float] = (0.0, 0.0)
    distance: float = 1.0
    framing: tuple[float, float] = (0.0, 0.0)
    lamp: tuple[float, float] = (0.3, -0.6)
    lamp_colour: tuple[float, float, float] = (1.0, 1.0, 1.0)
    exposure: float = 1.0
    breath: float = 0.0
    posture: tuple[float, float] = (0.0, 0.0)
    resolution: float = 1.0
    jpeg_quality: int = 92
    noise: float = 1.5
    seed: int = 0


def _grid() -> tuple[np.ndarray, np.ndarray]:
    rows, cols = int(WORLD_HEIGHT / WORLD_STEP), int(WORLD_WIDTH / WORLD_STEP)
    ys, xs = np.mgrid[0:rows, 0:cols].astype(np.float32) * WORLD_STEP
    return xs - WORLD_WIDTH / 2, ys - WORLD_HEIGHT / 2


def _smooth_noise(rng: np.random.Generator, shape: tuple[int, int], sigma_mm: float) -> np.ndarray:
    field = cv2.GaussianBlur(rng.normal(0, 1, shape).astype(np.float32), (0, 0), sigma_mm / WORLD_STEP)
    return field / (float(field.std()) + 1e-6)


def _dots(rng: np.random.Generator, shape: tuple[int, int], count: int, radius_mm: tuple[float, float]) -> np.ndarray:
    """A mask of `count` soft round dots."""
    mask = np.zeros(shape, np.float32)
    for _ in range(count):
        centre = (int(rng.integers(0, shape[1])), int(rng.integers(0, shape[0])))
        cv2.circle(mask, centre, max(1, round(rng.uniform(*radius_mm) / WORLD_STEP)), 1.0, -1)
    return cv2.GaussianBlur(mask, (0, 0), 0.6 / WORLD_STEP)


def person(seed: int, tone: float) -> Body:
    """One person's torso in front of a wall: skin of `tone` (0 lightest, 1 darkest), her own moles and freckles."""
    rng = np.random.default_rng([seed, 7])
    xs, ys = _grid()
    shape = xs.shape
    # The torso's outline: narrower at the waist, the shoulders above the frame; arms hang beside it.
    half_width = 165.0 + 15.0 * np.cos(np.clip((ys + 40.0) / 260.0, -1, 1) * np.pi / 2) + rng.uniform(-10, 10)
    torso = 1.0 / (1.0 + np.exp(np.clip(-(half_width - np.abs(xs)) / 3.0, -50, 50)))
    arm_centre, arm_radius = half_width + 55.0, 42.0
    arm_distance = np.abs(np.abs(xs) - arm_centre)
    arm = 1.0 / (1.0 + np.exp(np.clip(-(arm_radius - arm_distance) / 2.0, -50, 50))) * (ys > -330)
    body = np.maximum(torso, arm).astype(np.float32)
    # The chest: a wide curve, two mounds with their areolas, posture's smooth undulations.
    chest = 110.0 + 30.0 * np.cos(np.clip(xs / (half_width + 1e-3), -1, 1) * np.pi / 2)
    size = rng.uniform(45.0, 75.0)
    mounds = np.zeros(shape, np.float32)
    areola = np.zeros(shape, np.float32)
    for side in (-1, 1):
        cx, cy, sigma = side * rng.uniform(75, 95), rng.uniform(20, 60), rng.uniform(55, 70)
        distance2 = (xs - cx) ** 2 + (ys - cy - 0.4 * sigma) ** 2
        mounds += size * np.exp(-distance2 / (2 * sigma**2))
        radius = rng.uniform(14, 22)
        areola = np.maximum(
            areola, np.clip((radius - np.sqrt((xs - cx) ** 2 + (ys - cy - 0.4 * sigma) ** 2)) / 2, 0, 1)
        )
        mounds += 3.0 * np.exp(-((xs - cx) ** 2 + (ys - cy - 0.4 * sigma) ** 2) / (2 * 3.0**2))
    ribs = 1.5 * _smooth_noise(rng, shape, 25.0)
    arm_height = 80.0 + np.sqrt(np.clip(arm_radius**2 - arm_distance**2, 0, None))
    height = np.where(torso >= arm, torso * (chest + mounds + ribs), arm * arm_height).astype(np.float32)
    # Skin: the tone, its slow variation, pores, freckles, her moles, the areolas.
    skin = (1 - tone) * LIGHT_SKIN + tone * DARK_SKIN
    albedo = np.broadcast_to(skin, (*shape, 3)).astype(np.float32).copy()
    albedo *= (1.0 + 0.05 * _smooth_noise(rng, shape, 30.0))[:, :, None]
    albedo *= (1.0 - 0.06 * np.clip(_smooth_noise(rng, shape, 0.4), 0, 3) / 3)[:, :, None]
    freckles = _dots(rng, shape, int(rng.integers(40, 160)), (0.6, 1.4))
    moles = _dots(rng, shape, int(rng.integers(3, 9)), (1.5, 3.5))
    albedo *= (1.0 - 0.25 * freckles)[:, :, None]
    albedo = albedo * (1 - moles[:, :, None]) + np.array([0.10, 0.06, 0.04], np.float32) * moles[:, :, None]
    areola_colour = skin * np.array([0.62, 0.50, 0.50], np.float32)
    albedo = albedo * (1 - areola[:, :, None]) + areola_colour * areola[:, :, None]
    wall = WALLS[int(rng.integers(0, len(WALLS)))] * (1.0 + 0.03 * _smooth_noise(rng, shape, 8.0))[:, :, None]
    albedo = albedo * body[:, :, None] + wall * (1 - body[:, :, None])
    return Body(height, albedo.astype(np.float32), body, np.zeros(shape, np.float32))


def _soft_ellipse(xs: np.ndarray, ys: np.ndarray, centre: tuple, radii: tuple, edge: float) -> np.ndarray:
    distance = np.sqrt(((xs - centre[0]) / radii[0]) ** 2 + ((ys - centre[1]) / radii[1]) ** 2)
    return np.clip((1.0 - distance) / edge, 0, 1).astype(np.float32)


def changed(body: Body, kind: str, area: float, rng: np.random.Generator) -> Body:
    """The body with a change of `kind` over about `area` of the frame, on the torso (it moves with the body)."""
    xs, ys = _grid()
    half_height = IMAGE_SIZE[1] / 2 / FOCAL * DISTANCE
    frame_area = (2 * half_height) ** 2 * IMAGE_SIZE[0] / IMAGE_SIZE[1]
    aspect = rng.uniform(0.75, 1.33)
    rx = float(np.sqrt(area * frame_area * aspect / np.pi))
    ry = float(area * frame_area / (np.pi * rx))
    torso = body.body > 0.99
    candidates = np.argwhere(
        torso & (np.abs(xs) < max(30.0, 170 - rx)) & (np.abs(ys) < max(30.0, 0.8 * half_height - ry))
    )
    row, col = candidates[int(rng.integers(0, len(candidates)))]
    centre = (float(xs[row, col]), float(ys[row, col]))
    mask = _soft_ellipse(xs, ys, centre, (rx, ry), 0.25) * body.body
    height, albedo = body.height, body.albedo
    if kind == "mole":
        albedo = albedo * (1 - mask[:, :, None]) + albedo * np.float32([0.42, 0.33, 0.28]) * mask[:, :, None]
    elif kind == "redness":
        redder = albedo * np.float32([1.12, 0.88, 0.88]) + np.float32([0.03, 0, 0])
        albedo = albedo * (1 - mask[:, :, None]) + redder * mask[:, :, None]
    elif kind == "peau":
        pits = _dots(rng, mask.shape, int(area * mask.size / 60), (0.5, 0.9)) * mask
        albedo = albedo * (1.0 - 0.18 * pits)[:, :, None]
        height = height - 0.8 * cv2.GaussianBlur(pits, (0, 0), 1.0)
    else:
        bump = np.exp(-(((xs - centre[0]) / (0.6 * rx)) ** 2 + ((ys - centre[1]) / (0.6 * ry)) ** 2) / 2)
        depth = min(rx, ry) * 0.16
        height = height + (depth if kind == "bulge" else -depth) * bump.astype(np.float32) * body.body
    return replace(body, height=height.astype(np.float32), albedo=albedo.astype(np.float32), change=mask)


def _body_maps(body: Body, shot: Shot) -> tuple[np.ndarray, np.ndarray]:
    """For each world grid point, the grid point of the body at rest that breath and posture bring there."""
    rng = np.random.default_rng([shot.seed, 11])
    rows, cols = body.body.shape
    ys, xs = np.mgrid[0:rows, 0:cols].astype(np.float32)
    scale = max(rows, cols)
    bend_x = _smooth_noise(rng, (rows, cols), 120.0) * shot.breath * scale
    bend_y = _smooth_noise(rng, (rows, cols), 120.0) * shot.breath * scale
    return xs + bend_x - shot.posture[0] * scale, ys + bend_y - shot.posture[1] * scale


def _moved_body(body: Body, shot: Shot) -> Body:
    """The body bent by breath (a smooth field) and moved by posture against the wall, which stays."""
    if not shot.breath and not any(shot.posture):
        return body
    map_x, map_y = _body_maps(body, shot)

    def warp(layer: np.ndarray) -> np.ndarray:
        return cv2.remap(layer, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)

    moved = warp(body.body)
    wall = person_wall(body)
    albedo = warp(body.albedo)
    # Breathing in lifts the chest a little too.
    height = warp(body.height) * (1.0 + 0.5 * shot.breath)
    albedo = albedo * moved[:, :, None] + wall * (1 - moved[:, :, None])
    return Body(height * moved, albedo.astype(np.float32), moved, warp(body.change))


def person_wall(body: Body) -> np.ndarray:
    """The wall's albedo where the body does not hide it (its mean over the visible wall elsewhere)."""
    visible = body.body < 0.01
    return body.albedo[visible].mean(axis=0) if visible.any() else np.float32([0.6, 0.6, 0.6])


def _rotation(shot: Shot) -> np.ndarray:
    turn, tx, ty = np.radians([shot.turn, *shot.tilt])
    rz = np.array([[np.cos(turn), -np.sin(turn), 0], [np.sin(turn), np.cos(turn), 0], [0, 0, 1]])
    rx = np.array([[1, 0, 0], [0, np.cos(tx), -np.sin(tx)], [0, np.sin(tx), np.cos(tx)]])
    ry = np.array([[np.cos(ty), 0, np.sin(ty)], [0, 1, 0], [-np.sin(ty), 0, np.cos(ty)]])
    return rz @ rx @ ry


def _rays(shot: Shot) -> tuple[np.ndarray, np.ndarray]:
    """The camera's centre (world mm) and each pixel's ray direction (h, w, 3), for the full-size image. A tilted
    phone is still aimed at the chest: the camera orbits the point it frames, so a tilt is a perspective change
    (with the body's parallax), not a pan."""
    width, height = IMAGE_SIZE
    v, u = np.mgrid[0:height, 0:width].astype(np.float64)
    directions = np.stack([(u - width / 2) / FOCAL, (v - height / 2) / FOCAL, -np.ones_like(u)], axis=2)
    rotation = _rotation(shot)
    directions = directions @ rotation.T
    target = np.array([shot.framing[0] * WORLD_WIDTH, shot.framing[1] * WORLD_HEIGHT, 0.0])
    centre = target + rotation @ np.array([0.0, 0.0, DISTANCE * shot.distance])
    return centre, directions


def _sample(layer: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    map_x = ((x + WORLD_WIDTH / 2) / WORLD_STEP).astype(np.float32)
    map_y = ((y + WORLD_HEIGHT / 2) / WORLD_STEP).astype(np.float32)
    return cv2.remap(layer, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


def _surface_points(body: Body, shot: Shot) -> tuple[np.ndarray, np.ndarray]:
    """Where each pixel's ray first meets the surface z = height(x, y): marched down from above the highest point
    in even steps (so a body's edge hides what lies behind it), then the crossing refined by bisection."""
    centre, directions = _rays(shot)
    top, steps = float(body.height.max()) + 5.0, 28

    def above(t: np.ndarray) -> np.ndarray:
        x, y = centre[0] + t * directions[:, :, 0], centre[1] + t * directions[:, :, 1]
        return centre[2] + t * directions[:, :, 2] > _sample(body.height, x, y)

    near = (top - centre[2]) / directions[:, :, 2]
    far = (-1.0 - centre[2]) / directions[:, :, 2]
    low, high = near.copy(), far.copy()
    found = np.zeros(near.shape, bool)
    for step in range(1, steps + 1):
        t = near + (far - near) * step / steps
        crossed = ~found & ~above(t)
        high[crossed] = t[crossed]
        low[crossed] = (near + (far - near) * (step - 1) / steps)[crossed]
        found |= crossed
    for _ in range(6):
        middle = (low + high) / 2
        up = above(middle)
        low, high = np.where(up, middle, low), np.where(up, high, middle)
    t = (low + high) / 2
    return centre[0] + t * directions[:, :, 0], centre[1] + t * directions[:, :, 1]


def render(body: Body, shot: Shot) -> np.ndarray:
    """The photo of `body` taken as `shot` says: sRGB uint8, after the phone's resolution, noise and JPEG."""
    seen = _moved_body(body, shot)
    x, y = _surface_points(seen, shot)
    gy, gx = np.gradient(seen.height, WORLD_STEP)
    normals = np.dstack([-gx, -gy, np.ones_like(gx)])
    normals /= np.linalg.norm(normals, axis=2, keepdims=True)
    lamp = np.array([shot.lamp[0], shot.lamp[1], 1.0])
    lamp /= np.linalg.norm(lamp)
    shading = np.clip(normals @ lamp.astype(np.float32), 0, None)
    radiance = seen.albedo * (0.25 + 0.75 * shading)[:, :, None] * np.float32(shot.lamp_colour) * shot.exposure
    linear = _sample(radiance.astype(np.float32), x, y)
    rng = np.random.default_rng([shot.seed, 13])
    pixels = np.clip(linear, 0, 1) ** (1 / 2.2) * 255 + rng.normal(0, shot.noise, linear.shape)
    pixels = np.clip(pixels, 0, 255).astype(np.uint8)
    if shot.resolution < 1.0:
        size = (round(IMAGE_SIZE[0] * shot.resolution), round(IMAGE_SIZE[1] * shot.resolution))
        pixels = cv2.resize(pixels, size, interpolation=cv2.INTER_AREA)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, "JPEG", quality=shot.jpeg_quality)
    return np.asarray(Image.open(buffer).convert("RGB"))


def surface_coordinates(body: Body, shot: Shot) -> tuple[np.ndarray, np.ndarray]:
    """The point of the body at rest (x, y mm) each pixel of the full-size render shows, wherever breath and
    posture moved it: the camera's ground truth, for measuring a registration."""
    x, y = _surface_points(_moved_body(body, shot), shot)
    if not shot.breath and not any(shot.posture):
        return x, y
    map_x, map_y = _body_maps(body, shot)
    return (
        _sample(map_x, x, y) * WORLD_STEP - WORLD_WIDTH / 2,
        _sample(map_y, x, y) * WORLD_STEP - WORLD_HEIGHT / 2,
    )


def seen_body(body: Body, shot: Shot) -> np.ndarray:
    """Where the photo `shot` takes shows the body (not the wall): a mask at the full-size render's size."""
    seen = _moved_body(body, shot)
    x, y = _surface_points(seen, shot)
    return _sample(seen.body, x, y) > 0.5


def change_box(body: Body, shot: Shot) -> tuple[int, int, int, int] | None:
    """Where the change lies in the photo `shot` takes (x0, y0, x1, y1 px of the full-size render); None without."""
    if not body.change.any():
        return None
    seen = _moved_body(body, shot)
    x, y = _surface_points(seen, shot)
    inside = np.argwhere(_sample(seen.change, x, y) > 0.5)
    if not len(inside):
        return None
    (y0, x0), (y1, x1) = inside.min(axis=0), inside.max(axis=0) + 1
    return int(x0), int(y0), int(x1), int(y1)


def retake(rng: np.random.Generator, factors: tuple[str, ...] = FACTORS, strength: float = 1.0, seed: int = 0) -> Shot:
    """A re-take at home with the named factors varied (`strength` 2: twice the home variation)."""

    def pick(factor: str, size: int | None = None):
        span = HOME.get(factor, 0.0) * strength if factor in factors else 0.0
        return rng.uniform(-span, span, size) if span else (np.zeros(size) if size else 0.0)

    lamp_side = pick("lamp", 2)
    colour = tuple(1.0 + rng.uniform(-0.08, 0.08, 3) * strength) if "lamp" in factors else (1.0, 1.0, 1.0)
    device = "device" in factors
    return Shot(
        turn=float(pick("turn")),
        tilt=tuple(float(v) for v in pick("tilt", 2)),
        distance=1.0 + float(pick("distance")),
        framing=tuple(float(v) for v in pick("framing", 2)),
        lamp=(0.3 + float(lamp_side[0]), -0.6 + float(lamp_side[1])),
        lamp_colour=tuple(float(c) for c in colour),
        exposure=1.0 + float(pick("exposure")),
        breath=abs(float(pick("breath"))),
        posture=tuple(float(v) for v in pick("posture", 2)),
        resolution=float(rng.uniform(0.75, 1.0)) if device else 1.0,
        jpeg_quality=int(rng.integers(75, 96)) if device else 92,
        noise=float(rng.uniform(1.0, 3.0)),
        seed=int(rng.integers(0, 2**31)),
    )
