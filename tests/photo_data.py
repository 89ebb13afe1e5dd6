"""Real photographs shipped inside scikit-image and scikit-learn wheels, and controlled degradations of them."""

import io
from collections.abc import Callable

import cv2
import numpy as np
from PIL import Image

from bcd_app.vision import preprocessing, quality

# Camera photographs of lit scenes, as our users take them. Left out: astronomy (hubble,
# moon), fundus and microscopy images (retina, cell) and a rendered scene (clock).
SKIMAGE_PHOTOS = (
    "astronaut",
    "camera",
    "coffee",
    "chelsea",
    "rocket",
    "coins",
    "brick",
    "grass",
    "gravel",
    "immunohistochemistry",
)

# The test scenes: angle -> real photo, for a session, and another session that shows other scenes.
SCENES = {"front": "astronaut", "left": "coffee", "right": "chelsea"}
OTHER_SCENES = {"front": "rocket", "left": "brick", "right": "camera"}


def real_photos() -> dict[str, np.ndarray]:
    """Name -> RGB uint8 array for every shipped real photo."""
    import skimage.data
    from sklearn.datasets import load_sample_images

    photos = {}
    for name in SKIMAGE_PHOTOS:
        pixels = getattr(skimage.data, name)()
        if pixels.ndim == 2:
            pixels = np.repeat(pixels[:, :, None], 3, axis=2)
        photos[name] = np.ascontiguousarray(pixels[:, :, :3])
    sample = load_sample_images()
    for filename, pixels in zip(sample.filenames, sample.images, strict=True):
        photos[filename.rsplit("/", 1)[-1].split(".")[0]] = np.ascontiguousarray(pixels)
    return photos


def model_inputs(names: list[str]) -> np.ndarray:
    """The model inputs of these real photos, as the service makes them (working copy, brightness normalised)."""
    photos = real_photos()
    return np.stack(
        [
            preprocessing.model_input(
                preprocessing.normalise_brightness(preprocessing.fit_long_side(photos[name])).pixels
            )
            for name in names
        ]
    ).astype(np.float32)


def encode(pixels: np.ndarray, fmt: str = "JPEG", quality: int = 95, **params) -> bytes:
    """Encode RGB pixels with Pillow."""
    buffer = io.BytesIO()
    options = {"quality": quality} if fmt == "JPEG" else {}
    Image.fromarray(pixels).save(buffer, format=fmt, **options, **params)
    return buffer.getvalue()


def measure(data: bytes) -> quality.ImageQuality:
    """Decode an image file on the pipeline's fast path and measure it."""
    return quality.measure(preprocessing.load_image(data, max_side=preprocessing.WORKING_SIZE))[0]


def gaussian_blur(pixels: np.ndarray, sigma: float) -> np.ndarray:
    """Out-of-focus blur."""
    return cv2.GaussianBlur(pixels, (0, 0), sigma)


def motion_blur(pixels: np.ndarray, length: int) -> np.ndarray:
    """Horizontal camera-shake blur of `length` px."""
    kernel = np.zeros((length, length), np.float32)
    kernel[length // 2, :] = 1.0 / length
    return cv2.filter2D(pixels, -1, kernel)


def exposure(pixels: np.ndarray, factor: float) -> np.ndarray:
    """Under (<1) or over (>1) exposure in linear light, clipped like a sensor."""
    linear = (pixels.astype(np.float32) / 255.0) ** 2.2 * factor
    return (np.clip(linear, 0, 1) ** (1 / 2.2) * 255).round().astype(np.uint8)


def noise(pixels: np.ndarray, sigma: float, seed: int = 0) -> np.ndarray:
    """Gaussian sensor noise."""
    rng = np.random.default_rng(seed)
    return np.clip(pixels + rng.normal(0, sigma, pixels.shape), 0, 255).astype(np.uint8)


def jpeg_artefacts(pixels: np.ndarray, quality: int) -> np.ndarray:
    """Heavy JPEG compression, decoded again."""
    return np.asarray(Image.open(io.BytesIO(encode(pixels, quality=quality))).convert("RGB"))


def shift_and_light(pixels: np.ndarray, dx: int = 6, dy: int = 4, gain: float = 1.06) -> np.ndarray:
    """The same scene re-captured: a small shift and a small change of light."""
    matrix = np.float32([[1, 0, dx], [0, 1, dy]])
    moved = cv2.warpAffine(pixels, matrix, (pixels.shape[1], pixels.shape[0]), borderMode=cv2.BORDER_REFLECT)
    return np.clip(moved.astype(np.float32) * gain, 0, 255).astype(np.uint8)


DEGRADATIONS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "gaussian_blur_1.5": lambda p: gaussian_blur(p, 1.5),
    "gaussian_blur_3": lambda p: gaussian_blur(p, 3.0),
    "gaussian_blur_6": lambda p: gaussian_blur(p, 6.0),
    "motion_blur_9": lambda p: motion_blur(p, 9),
    "motion_blur_17": lambda p: motion_blur(p, 17),
    "motion_blur_31": lambda p: motion_blur(p, 31),
    "under_exposed_0.08": lambda p: exposure(p, 0.08),
    "under_exposed_0.03": lambda p: exposure(p, 0.03),
    "over_exposed_4": lambda p: exposure(p, 4.0),
    "over_exposed_8": lambda p: exposure(p, 8.0),
    "jpeg_q5": lambda p: jpeg_artefacts(p, 5),
    "jpeg_q2": lambda p: jpeg_artefacts(p, 2),
    "noise_15": lambda p: noise(p, 15.0),
    "noise_30": lambda p: noise(p, 30.0),
}


def recapture(pixels: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The same scene photographed again: up to 2 deg rotation, 3% shift, 10% light and sensor noise."""
    height, width = pixels.shape[:2]
    angle = rng.uniform(-2.0, 2.0)
    dx, dy = rng.uniform(-0.03, 0.03) * width, rng.uniform(-0.03, 0.03) * height
    matrix = cv2.getRotationMatrix2D((width / 2, height / 2), angle, 1.0)
    matrix[:, 2] += (dx, dy)
    moved = cv2.warpAffine(pixels, matrix, (width, height), borderMode=cv2.BORDER_REFLECT)
    lit = moved.astype(np.float32) * rng.uniform(0.9, 1.1)
    return np.clip(lit + rng.normal(0, rng.uniform(1.0, 4.0), pixels.shape), 0, 255).astype(np.uint8)


def change_box(shape: tuple[int, ...], area: float, rng: np.random.Generator) -> tuple[int, int, int, int]:
    """A random rectangle (x0, y0, x1, y1) of about `area` of the frame, aspect 3:4 to 4:3, inside it."""
    height, width = shape[:2]
    aspect = rng.uniform(0.75, 1.33)
    box_w = int(np.sqrt(area * width * height * aspect))
    box_h = int(area * width * height / max(box_w, 1))
    x0 = int(rng.integers(0, max(1, width - box_w)))
    y0 = int(rng.integers(0, max(1, height - box_h)))
    return x0, y0, x0 + box_w, y0 + box_h


def soft_change(pixels: np.ndarray, box: tuple[int, int, int, int], kind: str) -> np.ndarray:
    """A soft local reddening or darkening over `box`, fading out at its edges like skin does."""
    height, width = pixels.shape[:2]
    x0, y0, x1, y1 = box
    mask = np.zeros((height, width), np.float32)
    # An ellipse filling the box (pi/4 of its area), blurred: about `area` of the frame is touched.
    cv2.ellipse(mask, (((x0 + x1) / 2, (y0 + y1) / 2), (float(x1 - x0), float(y1 - y0)), 0.0), 1.0, -1)
    mask = cv2.GaussianBlur(mask, (0, 0), max(2.0, 0.12 * min(x1 - x0, y1 - y0)))[:, :, None]
    values = pixels.astype(np.float32)
    if kind == "reddening":
        target = values * np.array([1.12, 0.9, 0.9], np.float32) + np.array([12, 0, 0], np.float32)
    else:
        target = values * 0.82
    return np.clip(values * (1 - mask) + target * mask, 0, 255).astype(np.uint8)


def paste(pixels: np.ndarray, box: tuple[int, int, int, int], donor: np.ndarray) -> np.ndarray:
    """A patch of another photo pasted over `box`."""
    x0, y0, x1, y1 = box
    changed = pixels.copy()
    changed[y0:y1, x0:x1] = cv2.resize(donor, (x1 - x0, y1 - y0), interpolation=cv2.INTER_AREA)
    return changed


# How people re-take a photo at home (issue 19's capture model): each factor's range, drawn uniformly.
HOME_ROTATION_DEG = 5.0
HOME_SCALE = 0.06
HOME_FRAMING = 0.05
HOME_WHITE_BALANCE = 0.08
HOME_EXPOSURE = 0.20
HOME_SIDE_LIGHT = (0.05, 0.15)
HOME_RESOLUTION = (0.75, 1.0)
HOME_JPEG_QUALITY = (75, 95)
# The phone tilted a little (perspective: each corner moved up to this share of the frame), and the body bending
# smoothly with posture and breath (a displacement field of up to this share of the frame).
HOME_TILT = 0.03
HOME_BREATH = 0.015
HOME_FACTORS = (
    "rotation", "tilt", "distance", "framing", "breath", "white_balance", "exposure", "side_light", "device",
)  # fmt: skip


def _bent(pixels: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The scene bent smoothly, as a body does with posture and breath: a displacement field of about a third of
    the frame's scale, at most HOME_BREATH of the frame."""
    height, width = pixels.shape[:2]
    coarse = rng.uniform(-1, 1, (3, 3, 2)).astype(np.float32) * HOME_BREATH * max(height, width)
    field = cv2.resize(coarse, (width, height), interpolation=cv2.INTER_CUBIC)
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    return cv2.remap(pixels, xs + field[:, :, 0], ys + field[:, :, 1], cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)


def _linear(pixels: np.ndarray) -> np.ndarray:
    return (pixels.astype(np.float32) / 255.0) ** 2.2


def _srgb(linear: np.ndarray) -> np.ndarray:
    return (np.clip(linear, 0, 1) ** (1 / 2.2) * 255).round().astype(np.uint8)


def home_recapture(pixels: np.ndarray, rng: np.random.Generator, factors: tuple[str, ...] = HOME_FACTORS) -> np.ndarray:
    """The same scene re-taken at home with the named factors varied: the phone turned (rotation) and tilted
    (perspective), held nearer or farther (distance), the framing moved, the body bent (breath), another lamp (white balance per channel, exposure, light falling from
    one side), another phone or setting (resolution and JPEG quality). Sensor noise is always there."""
    height, width = pixels.shape[:2]
    out = pixels
    angle = rng.uniform(-HOME_ROTATION_DEG, HOME_ROTATION_DEG) if "rotation" in factors else 0.0
    scale = 1.0 + (rng.uniform(-HOME_SCALE, HOME_SCALE) if "distance" in factors else 0.0)
    shift = rng.uniform(-HOME_FRAMING, HOME_FRAMING, 2) if "framing" in factors else np.zeros(2)
    corners = rng.uniform(-HOME_TILT, HOME_TILT, (4, 2)) if "tilt" in factors else np.zeros((4, 2))
    if angle or scale != 1.0 or shift.any() or corners.any():
        matrix = np.vstack([cv2.getRotationMatrix2D((width / 2, height / 2), angle, scale), [0, 0, 1]])
        matrix[:2, 2] += shift * (width, height)
        frame = np.float32([[0, 0], [width, 0], [width, height], [0, height]])
        tilt = cv2.getPerspectiveTransform(frame, frame + np.float32(corners * (width, height)))
        out = cv2.warpPerspective(
            out, tilt @ matrix, (width, height), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT
        )
    if "breath" in factors:
        out = _bent(out, rng)
    light = _linear(out)
    if "white_balance" in factors:
        light = light * rng.uniform(1 - HOME_WHITE_BALANCE, 1 + HOME_WHITE_BALANCE, 3).astype(np.float32)
    if "exposure" in factors:
        light = light * np.float32(rng.uniform(1 - HOME_EXPOSURE, 1 + HOME_EXPOSURE))
    if "side_light" in factors:
        strength, direction = rng.uniform(*HOME_SIDE_LIGHT), rng.uniform(0, 2 * np.pi)
        ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
        along = ((xs / width - 0.5) * np.cos(direction) + (ys / height - 0.5) * np.sin(direction)) / 0.5
        light = light * (1.0 + 0.5 * strength * np.clip(along, -1, 1))[:, :, None]
    noisy = _srgb(light).astype(np.float32) + rng.normal(0, rng.uniform(1.0, 3.0), out.shape)
    out = np.clip(noisy, 0, 255).astype(np.uint8)
    if "device" in factors:
        factor = rng.uniform(*HOME_RESOLUTION)
        small = cv2.resize(out, (round(width * factor), round(height * factor)), interpolation=cv2.INTER_AREA)
        quality = int(rng.integers(HOME_JPEG_QUALITY[0], HOME_JPEG_QUALITY[1] + 1))
        out = np.asarray(Image.open(io.BytesIO(encode(small, quality=quality))).convert("RGB"))
    return out


def _soft_mask(shape: tuple[int, ...], box: tuple[int, int, int, int], edge: float = 0.12) -> np.ndarray:
    """An ellipse filling `box`, its edge blurred like skin's: 1 inside, fading to 0."""
    height, width = shape[:2]
    x0, y0, x1, y1 = box
    mask = np.zeros((height, width), np.float32)
    cv2.ellipse(mask, (((x0 + x1) / 2, (y0 + y1) / 2), (float(x1 - x0), float(y1 - y0)), 0.0), 1.0, -1)
    return cv2.GaussianBlur(mask, (0, 0), max(1.0, edge * min(x1 - x0, y1 - y0)))


def dark_spot(pixels: np.ndarray, box: tuple[int, int, int, int]) -> np.ndarray:
    """A new small dark spot (a mole's brown), soft at its edge."""
    mask = _soft_mask(pixels.shape, box, edge=0.2)[:, :, None]
    values = pixels.astype(np.float32)
    target = values * np.array([0.45, 0.35, 0.3], np.float32)
    return np.clip(values * (1 - mask) + target * mask, 0, 255).astype(np.uint8)


def redness(pixels: np.ndarray, box: tuple[int, int, int, int]) -> np.ndarray:
    """A soft local reddening of the skin."""
    return soft_change(pixels, box, "reddening")


def texture_change(pixels: np.ndarray, box: tuple[int, int, int, int], rng: np.random.Generator) -> np.ndarray:
    """Fine bumps and pits over `box` with no colour shift: the lightness modulated by zero-mean band-pass noise
    (features of about 1% of the photo's width), colour ratios kept."""
    height, width = pixels.shape[:2]
    grain = max(1.5, 0.006 * width)
    field = cv2.GaussianBlur(rng.normal(0, 1, (height, width)).astype(np.float32), (0, 0), grain)
    field /= float(field.std()) + 1e-6
    mask = _soft_mask(pixels.shape, box)
    gain = 1.0 + 0.2 * np.clip(field, -2.5, 2.5) * mask
    return np.clip(pixels.astype(np.float32) * gain[:, :, None], 0, 255).astype(np.uint8)


def shape_change(pixels: np.ndarray, box: tuple[int, int, int, int], inward: bool = True) -> np.ndarray:
    """A local change of shape over `box`: the surface pulled inward (dimpling, retraction: the skin drawn toward
    a centre, with the shading of a hollow) or pushed outward (a swelling), smooth at its edge."""
    height, width = pixels.shape[:2]
    x0, y0, x1, y1 = box
    cx, cy, radius = (x0 + x1) / 2, (y0 + y1) / 2, max(4.0, min(x1 - x0, y1 - y0) / 2)
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    dx, dy = xs - cx, ys - cy
    weight = np.exp(-(dx**2 + dy**2) / (2 * (0.6 * radius) ** 2))
    # Sampling farther out pulls the skin toward the centre (inward); nearer pushes it out.
    pull = (0.35 if inward else -0.35) * weight
    map_x, map_y = xs + dx * pull, ys + dy * pull
    moved = cv2.remap(pixels, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
    # Light from above: a hollow is darker on its upper side, brighter below (a swelling the other way).
    shading = 1.0 + (0.10 if inward else -0.10) * (dy / radius) * weight
    return np.clip(moved.astype(np.float32) * shading[:, :, None], 0, 255).astype(np.uint8)
