"""Safe photo decoding and the preprocessing pipeline: load, brightness normalisation, crop, resize."""

import io
import warnings
from dataclasses import dataclass

import cv2
import numpy as np
from PIL import Image, UnidentifiedImageError

from ..errors import ImageRejected

# Formats we decode; everything else (EPS starts Ghostscript, FITS, ...) is refused unread.
ALLOWED_FORMATS = ("JPEG", "PNG", "WEBP")
# Pixel budget per format, so no accepted upload grows a worker by 250 MB (bench/upload_memory.py). 50 MP
# fits a 48 MP phone photo, and a JPEG is decoded at reduced DCT scale (a few MB); PNG and WebP decode
# at full size first (about 6 bytes a pixel at peak), and are rare from a phone camera.
MAX_PIXELS = {"JPEG": 50_000_000, "PNG": 30_000_000, "WEBP": 30_000_000}
MAX_SIDE = 10_000
# Every measure and the model input are taken from this working copy (longer side, px), so
# they do not depend on the upload's resolution and the arrays stay small.
WORKING_SIZE = 512
# Model input (EfficientNet-Lite0 at its native resolution).
MODEL_INPUT_SIZE = 224
# EfficientNet-Lite was trained on inputs scaled to [-1, 1] (mean 127, std 128 per channel).
MODEL_MEAN = 127.0
MODEL_STD = 128.0
# Brightness normalisation: mean luminance (0-255) outside this band is corrected by gamma
# toward the target; the band is where our real-photo set looks correctly exposed.
DARK_MEAN = 70.0
BRIGHT_MEAN = 190.0
TARGET_MEAN = 128.0
GAMMA_ITERATIONS = 3
# Side (px) of the DCT blocks a JPEG encoder quantises.
JPEG_BLOCK = 8

Image.MAX_IMAGE_PIXELS = max(MAX_PIXELS.values())
Image.LOAD_TRUNCATED_IMAGES = False


@dataclass(frozen=True)
class LoadedImage:
    """A decoded photo: RGB uint8 pixels (oriented), its full oriented size, its format and EXIF orientation."""

    pixels: np.ndarray
    width: int
    height: int
    format: str
    orientation: int = 1

    @property
    def block_period(self) -> int | None:
        """Period (px) of a JPEG's 8x8 block grid in the decoded pixels, None when below 2 px or not whole."""
        period = JPEG_BLOCK * self.pixels.shape[1] / self.width
        whole = round(period)
        return whole if whole >= 2 and abs(period - whole) < 0.05 else None


def _reject_polyglot(data: bytes) -> None:
    # A ZIP's end-of-central-directory record sits in the last 64 KiB: a file carrying one is
    # an archive glued to an image, not a photo.
    if data.rfind(b"PK\x05\x06", max(0, len(data) - 65_557)) != -1:
        raise ImageRejected("The file carries extra data after the image.", code="polyglot_file")


def _open(data: bytes) -> Image.Image:
    if not data:
        raise ImageRejected("The file is empty.", code="empty_file")
    _reject_polyglot(data)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=ALLOWED_FORMATS)
    except (Image.DecompressionBombWarning, Image.DecompressionBombError):
        raise ImageRejected("The image is too large.", code="image_too_large") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise ImageRejected("The file is not a JPEG, PNG or WebP image.", code="not_an_image") from None
    width, height = image.size
    budget = MAX_PIXELS.get(image.format or "", min(MAX_PIXELS.values()))
    if width * height > budget or max(width, height) > MAX_SIDE or min(width, height) < 1:
        raise ImageRejected(
            f"The image must be at most {budget // 1_000_000} megapixels and {MAX_SIDE} px a side.",
            code="image_too_large",
        )
    if getattr(image, "n_frames", 1) > 1:
        raise ImageRejected("Animated images are not accepted.", code="animated_image")
    return image


def _to_rgb(image: Image.Image, max_side: int | None) -> np.ndarray:
    """RGB uint8 pixels, reduced toward `max_side` before any conversion, so a large or deep image never
    exists at full size in more than its decoded form."""
    if image.mode in ("I", "I;16", "I;16B", "I;16L", "I;16N", "F"):
        values = np.asarray(image)
        if max_side:
            values = fit_long_side(values.astype(np.float32) if values.dtype.kind == "i" else values, max_side)
        top = 65535.0 if float(values.max(initial=0)) > 255 else 255.0
        grey = np.clip(values.astype(np.float32) / top * 255.0, 0, 255).astype(np.uint8)
        return np.ascontiguousarray(np.repeat(grey[:, :, None], 3, axis=2))
    step = max(image.size) // max_side if max_side else 1
    if step >= 2:
        image = image.reduce(step)
    if "A" in image.mode or "transparency" in image.info:
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        image = Image.alpha_composite(background, rgba)
    return np.asarray(image.convert("RGB"))


def _orientation(image: Image.Image) -> int:
    """The EXIF orientation (1 when there is none); a damaged EXIF block rejects the photo."""
    try:
        return int(image.getexif().get(0x0112, 1))
    except Exception:  # noqa: BLE001 - any failure to parse untrusted metadata is a damaged file
        raise ImageRejected("The photo's metadata is damaged; export it again.", code="damaged_metadata") from None


def load_image(data: bytes, max_side: int | None = WORKING_SIZE) -> LoadedImage:
    """Decode bytes into oriented RGB pixels, refusing bombs, truncation, animation and unknown formats.

    With `max_side`, a JPEG is decoded at reduced DCT scale (Pillow's draft) straight to at least that size,
    which is most of the speed on 12 MP phone photos; other formats are reduced right after decoding.
    """
    image = _open(data)
    image_format = image.format or "UNKNOWN"
    width, height = image.size
    try:
        if image_format == "JPEG":
            # A JPEG's EXIF is in its header; the draft scale must be chosen before decoding.
            orientation = _orientation(image)
            if max_side:
                scale = max_side / max(image.size)
                image.draft("RGB", (max(1, int(width * scale)), max(1, int(height * scale))))
            image.load()
            pixels = _to_rgb(image, max_side)
        elif image_format == "WEBP":
            # OpenCV decodes WebP in a third of the memory Pillow takes; orientation stays ours to apply.
            orientation = _orientation(image)
            decoded = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR | cv2.IMREAD_IGNORE_ORIENTATION)
            if decoded is None:
                raise ValueError("undecodable WebP")
            pixels = cv2.cvtColor(fit_long_side(decoded, max_side) if max_side else decoded, cv2.COLOR_BGR2RGB)
        else:
            # A PNG may keep its EXIF after the pixels: decode first.
            image.load()
            orientation = _orientation(image)
            pixels = _to_rgb(image, max_side)
        if orientation in (5, 6, 7, 8):
            width, height = height, width
        pixels = _oriented(pixels, orientation)
    except ImageRejected:
        raise
    except Exception:  # noqa: BLE001 - decoders of untrusted bytes fail in many ways; each is a damaged file
        raise ImageRejected("The image file is damaged or truncated.", code="truncated_image") from None
    return LoadedImage(pixels=pixels, width=width, height=height, format=image_format, orientation=orientation)


# EXIF orientation -> (transpose, rotations by 90 deg counter-clockwise), as ImageOps.exif_transpose applies it.
_ORIENTATIONS = {2: (True, 0), 3: (False, 2), 4: (True, 2), 5: (True, 1), 6: (False, 3), 7: (True, 3), 8: (False, 1)}


def _oriented(pixels: np.ndarray, orientation: int) -> np.ndarray:
    """Pixels turned upright from their EXIF orientation (on the small decoded array, not the full image)."""
    if orientation not in _ORIENTATIONS:
        return pixels
    mirror, turns = _ORIENTATIONS[orientation]
    if mirror:
        pixels = pixels[:, ::-1]
    return np.ascontiguousarray(np.rot90(pixels, turns))


def fit_long_side(pixels: np.ndarray, size: int = WORKING_SIZE) -> np.ndarray:
    """Shrink (area averaging) so the longer side is at most `size` px; smaller images stay as they are.

    Never enlarge: interpolated pixels would read as blur, so a small upload is measured at
    its own resolution.
    """
    height, width = pixels.shape[:2]
    scale = size / max(height, width)
    if scale >= 1:
        return pixels
    target = (max(1, round(width * scale)), max(1, round(height * scale)))
    return cv2.resize(pixels, target, interpolation=cv2.INTER_AREA)


def luminance(pixels: np.ndarray) -> np.ndarray:
    """Luma (BT.601) of an RGB uint8 array."""
    return cv2.cvtColor(pixels, cv2.COLOR_RGB2GRAY)


@dataclass(frozen=True)
class Normalised:
    """Pixels after brightness normalisation, and the gamma applied (1.0 = untouched)."""

    pixels: np.ndarray
    gamma: float


def normalise_brightness(pixels: np.ndarray) -> Normalised:
    """Bring a very dark or very bright photo's mean luminance toward TARGET_MEAN with a gamma curve."""
    mean = float(luminance(pixels).mean())
    if DARK_MEAN <= mean <= BRIGHT_MEAN:
        return Normalised(pixels, 1.0)
    levels = np.arange(256, dtype=np.float64) / 255.0
    gamma = 1.0
    result = pixels
    # Gamma moves the mean non-linearly; a few fixed-point steps land it in the target band.
    for _ in range(GAMMA_ITERATIONS):
        mean = float(luminance(result).mean())
        if mean <= 0.5 or mean >= 254.5:
            break
        gamma *= float(np.log(TARGET_MEAN / 255.0) / np.log(mean / 255.0))
        gamma = float(np.clip(gamma, 0.1, 10.0))
        table = np.clip(np.round(255.0 * levels**gamma), 0, 255).astype(np.uint8)
        result = cv2.LUT(pixels, table)
    return Normalised(result, gamma)


def model_input(pixels: np.ndarray, size: int = MODEL_INPUT_SIZE) -> np.ndarray:
    """Center crop to a square, resize to `size` and scale to the model's range: float32 CHW.

    Crop and resize before the (linear) value scaling: the same result as the other order,
    on far fewer pixels.
    """
    height, width = pixels.shape[:2]
    side = min(height, width)
    top, left = (height - side) // 2, (width - side) // 2
    square = pixels[top : top + side, left : left + side]
    interpolation = cv2.INTER_AREA if side > size else cv2.INTER_LINEAR
    resized = cv2.resize(square, (size, size), interpolation=interpolation)
    scaled = (resized.astype(np.float32) - MODEL_MEAN) / MODEL_STD
    return np.ascontiguousarray(scaled.transpose(2, 0, 1))


def encode_working(pixels: np.ndarray) -> bytes:
    """An upload's working copy (RGB at WORKING_SIZE) as raw .npy bytes: under 0.6 MB, written and read in well
    under a millisecond (PNG took 12 ms to write, 5 to read, for a third less space)."""
    buffer = io.BytesIO()
    np.save(buffer, np.ascontiguousarray(pixels, dtype=np.uint8), allow_pickle=False)
    return buffer.getvalue()


def decode_working(data: bytes) -> np.ndarray:
    """The RGB pixels encode_working wrote."""
    pixels = np.load(io.BytesIO(data), allow_pickle=False)
    if pixels.dtype != np.uint8 or pixels.ndim != 3 or pixels.shape[2] != 3:
        raise ValueError("not a working copy")
    return pixels


def encode_for_storage(pixels: np.ndarray, quality: int = 92) -> bytes:
    """Re-encode oriented pixels as a JPEG with no metadata (no EXIF, no GPS) for storage."""
    ok, buffer = cv2.imencode(".jpg", cv2.cvtColor(pixels, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise ImageRejected("The image could not be stored.", code="encode_failed")
    return buffer.tobytes()
