"""What an upload becomes before it is stored: the photo at working size, its quality, the bytes to keep
(without metadata) and the working copy; and the small thumbnail a preview may ask for."""

from dataclasses import dataclass, replace

import numpy as np

from . import metadata, preprocessing, quality

# PNG and WebP uploads are kept as a JPEG of at most this size (longer side, px); JPEGs are kept as sent,
# less their metadata.
STORED_MAX_SIDE = 2048
THUMBNAIL_SIZE = 256
# What a preview shows: a phone screen's worth (long side, px) at a JPEG quality that looks the same there.
DISPLAY_SIZE = 1600
DISPLAY_QUALITY = 80


@dataclass(frozen=True)
class DecodedUpload:
    """What an upload gives before it is stored: the photo as decoded, its quality, the bytes to keep, the working
    copy (.npy) and its pixels."""

    loaded: preprocessing.LoadedImage
    quality: quality.ImageQuality
    kept: bytes
    working: bytes
    working_pixels: np.ndarray


def decode_upload(data: bytes, thresholds: quality.QualityThresholds = quality.DEFAULT_THRESHOLDS) -> DecodedUpload:
    """Decode, measure and prepare an upload (ImageRejected when it is not a photo we read)."""
    loaded, kept = _decode_for_storage(data)
    working = preprocessing.fit_long_side(loaded.pixels)
    measured, _ = quality.measure(loaded, thresholds, working)
    return DecodedUpload(loaded, measured, kept, preprocessing.encode_working(working), working)


def _decode_for_storage(data: bytes) -> tuple[preprocessing.LoadedImage, bytes]:
    """The upload at working size (what quality and the analysis read) and the bytes to keep.

    A JPEG is decoded at reduced DCT scale only, and kept as sent less its metadata (lossless: no second
    encoding, no full-size decode). PNG and WebP, rare from phones, are kept as a JPEG of at most
    STORED_MAX_SIDE px, from one decode.
    """
    if data[:2] == metadata.SOI:
        loaded = preprocessing.load_image(data)
        if loaded.format == "JPEG":
            return loaded, metadata.strip_jpeg(data, loaded.orientation)
    large = preprocessing.load_image(data, max_side=STORED_MAX_SIDE)
    kept = preprocessing.encode_for_storage(preprocessing.fit_long_side(large.pixels, STORED_MAX_SIDE))
    return replace(large, pixels=preprocessing.fit_long_side(large.pixels)), kept


def _smaller(stored: bytes, size: int, quality: int) -> bytes:
    pixels = preprocessing.load_image(stored, max_side=size).pixels
    return preprocessing.encode_for_storage(preprocessing.fit_long_side(pixels, size), quality=quality)


def thumbnail(stored: bytes) -> bytes:
    """A small JPEG of a stored photo."""
    return _smaller(stored, THUMBNAIL_SIZE, 80)


def display_copy(stored: bytes) -> bytes:
    """The JPEG a preview shows: upright, DISPLAY_SIZE on its long side (never larger than the photo)."""
    return _smaller(stored, DISPLAY_SIZE, DISPLAY_QUALITY)
