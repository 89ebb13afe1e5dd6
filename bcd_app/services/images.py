"""Image uploads: validate by decoding, measure quality, store without metadata, sign preview URLs."""

import hashlib
import os
import threading
import uuid
from dataclasses import dataclass, replace

import numpy as np
from sqlalchemy import select

from ..constants import ANGLES, SessionStatus
from ..errors import Conflict, Invalid, NotFound
from ..extensions import db
from ..models import CaptureSession, Image
from . import metadata, preprocessing, quality, signed_links, storage
from .sessions import get_owned_session, image_count, parse_id

# PNG and WebP uploads are kept as a JPEG of at most this size (longer side, px); JPEGs are kept as sent,
# less their metadata.
STORED_MAX_SIDE = 2048
THUMBNAIL_SIZE = 256
PREVIEW_SALT = "image-preview"
# Uploads decoded and measured at once in one process. Each holds ~10 MB of buffers for a 12 MP photo; more
# at once than there are cores finish no sooner and only hold more memory (8 at once: a worker +103 MB).
_DECODE_SLOTS = threading.BoundedSemaphore(os.cpu_count() or 1)


@dataclass(frozen=True)
class StoredImage:
    """An accepted upload and its measured quality."""

    image: Image
    quality: quality.ImageQuality


def check_angle(angle: object) -> str:
    """The angle name, or Invalid."""
    if angle not in ANGLES:
        raise Invalid(f"angle must be one of: {', '.join(ANGLES)}.", code="invalid_angle")
    return str(angle)


def add_image(
    user_id: uuid.UUID,
    session_id: object,
    angle: object,
    data: bytes | None,
    *,
    upload_dir: str,
    max_images: int,
    thresholds: quality.QualityThresholds = quality.DEFAULT_THRESHOLDS,
) -> StoredImage:
    """Validate, measure and store one photo; nothing is left behind when any step fails."""
    session = get_owned_session(user_id, session_id, for_update=True)
    angle = check_angle(angle)
    if data is None:
        raise Invalid("A file field named 'file' is required.", code="missing_file")
    if session.status != SessionStatus.IN_PROGRESS:
        raise Conflict("The session is completed; start a new session to add photos.", code="session_completed")
    if image_count(session.id) >= max_images:
        raise Invalid(f"A session holds at most {max_images} images.", code="too_many_images")
    decoded = decode_upload(data, thresholds)
    loaded, measured = decoded.loaded, decoded.quality
    image_id = uuid.uuid4()
    key = storage.image_key(user_id, session.id, image_id, "jpg")
    image = Image(
        id=image_id,
        session_id=session.id,
        angle=angle,
        storage_key=key,
        sha256=hashlib.sha256(data).hexdigest(),
        size_bytes=len(data),
        width=loaded.width,
        height=loaded.height,
        format=loaded.format,
        **{name: getattr(measured, name) for name in QUALITY_COLUMNS},
    )
    written = []
    try:
        for name, content in ((key, decoded.kept), (storage.working_key(key), decoded.working)):
            storage.write(upload_dir, name, content)
            written.append(name)
        db.session.add(image)
        db.session.commit()
    except BaseException:
        db.session.rollback()
        for name in written:
            storage.delete(upload_dir, name)
        raise
    return StoredImage(image=image, quality=measured)


@dataclass(frozen=True)
class DecodedUpload:
    """What an upload gives before it is stored: the photo at working size, its quality, the bytes to keep and
    the working copy (.npy)."""

    loaded: preprocessing.LoadedImage
    quality: quality.ImageQuality
    kept: bytes
    working: bytes


def decode_upload(data: bytes, thresholds: quality.QualityThresholds = quality.DEFAULT_THRESHOLDS) -> DecodedUpload:
    """Decode, measure and prepare an upload (ImageRejected when it is not a photo we read); at most one per core
    at a time in this process."""
    with _DECODE_SLOTS:
        loaded, kept = _decode_for_storage(data)
        measured, _ = quality.measure(loaded, thresholds)
        working = preprocessing.encode_working(preprocessing.fit_long_side(loaded.pixels))
    return DecodedUpload(loaded, measured, kept, working)


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


QUALITY_COLUMNS = (
    "blur_variance",
    "brightness",
    "contrast",
    "clipped_dark",
    "clipped_bright",
    "noise_sigma",
    "chroma_noise",
    "blockiness",
    "is_blurry",
    "is_too_dark",
    "is_too_bright",
    "low_confidence",
    "brightness_correction",
    "image_quality_score",
    "blur_effect",
    "hints",
)


def get_owned_image(user_id: uuid.UUID, session_id: object, image_id: object) -> Image:
    """The caller's image in the caller's session, or NotFound."""
    session = get_owned_session(user_id, session_id)
    image = db.session.scalar(select(Image).where(Image.id == parse_id(image_id), Image.session_id == session.id))
    if image is None:
        raise NotFound("Image not found.")
    return image


def delete_image(user_id: uuid.UUID, session_id: object, image_id: object, upload_dir: str) -> None:
    """Remove one image row and its file."""
    image = get_owned_image(user_id, session_id, image_id)
    if image.session.status != SessionStatus.IN_PROGRESS:
        raise Conflict("Photos of a completed session cannot be removed one by one.", code="session_completed")
    key = image.storage_key
    db.session.delete(image)
    db.session.commit()
    storage.delete(upload_dir, key)
    storage.delete(upload_dir, storage.working_key(key))


def sign_preview(secret: str, image_id: uuid.UUID, variant: str = "full") -> str:
    """A token naming one image and its variant; verified with a max age when served."""
    return signed_links.sign(secret, PREVIEW_SALT, {"i": str(image_id), "v": variant})


def open_preview(secret: str, token: str, max_age: int) -> tuple[Image, str]:
    """The image and variant a signed token names; an expired or forged token is NotFound."""
    payload = signed_links.open_link(secret, PREVIEW_SALT, token, max_age)
    image = db.session.get(Image, parse_id(payload.get("i")))
    if image is None:
        raise NotFound("Not found.")
    return image, payload.get("v", "full")


def preview_bytes(upload_dir: str, image: Image, variant: str) -> bytes:
    """The stored JPEG, or a small thumbnail of it."""
    try:
        data = storage.read(upload_dir, image.storage_key)
    except FileNotFoundError:
        raise NotFound("Not found.") from None
    if variant != "thumb":
        return data
    pixels = preprocessing.fit_long_side(preprocessing.load_image(data, max_side=THUMBNAIL_SIZE).pixels, THUMBNAIL_SIZE)
    return preprocessing.encode_for_storage(pixels, quality=80)


def best_image(session_id: uuid.UUID, angle: str) -> Image | None:
    """A session's best photo of an angle: the highest quality, the first taken among equals."""
    return db.session.scalar(
        select(Image)
        .where(Image.session_id == session_id, Image.angle == angle)
        .order_by(Image.image_quality_score.desc().nulls_last(), Image.created_at, Image.id)
        .limit(1)
    )


def normalised_working(upload_dir: str, image: Image) -> preprocessing.Normalised:
    """An upload's working copy, brightness-normalised: what the model and the region comparison are given."""
    return preprocessing.normalise_brightness(working_pixels(upload_dir, image))


def working_pixels(upload_dir: str, image: Image) -> np.ndarray:
    """An upload upright at working size: the copy kept beside it, or, for an upload from before copies were
    kept, its photo decoded again (the same pixels). FileNotFoundError when both are gone."""
    try:
        return preprocessing.decode_working(storage.read(upload_dir, storage.working_key(image.storage_key)))
    except FileNotFoundError:
        return preprocessing.fit_long_side(preprocessing.load_image(storage.read(upload_dir, image.storage_key)).pixels)


def session_images(session: CaptureSession, angle: str | None = None) -> list[Image]:
    """A session's images, optionally of one angle, oldest first."""
    return [image for image in session.images if angle is None or image.angle == angle]
