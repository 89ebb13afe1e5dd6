"""Photo uploads: validate by decoding, measure quality, store without metadata; remove one photo."""

import hashlib
import logging
import os
import threading
import uuid
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

from ..constants import ANGLES, SessionStatus
from ..errors import Conflict, Invalid, NotFound
from ..models import Photo
from ..store import images as store
from ..store import sessions as session_rows
from ..store.files import image_key
from ..vision import quality
from ..vision.upload import DecodedUpload
from ..vision.upload import decode_upload as decode
from .capture import FoundPose, upload_pose
from .regions import baseline_reference
from .sessions import get_owned_session, parse_id

log = logging.getLogger(__name__)
# Uploads decoded and measured at once in one process. Each holds ~10 MB of buffers for a 12 MP photo; more
# at once than there are cores finish no sooner and only hold more memory (8 at once: a worker +103 MB).
_DECODE_SLOTS = threading.BoundedSemaphore(os.cpu_count() or 1)
# Threads that decode uploads and register them for their pose, beside the request's database and file work (an
# executor starts its threads at its first task: in a worker, never in the master before the fork).
_PIXEL_POOL = ThreadPoolExecutor(max_workers=os.cpu_count() or 1, thread_name_prefix="pixels")


@dataclass(frozen=True)
class StoredImage:
    """An accepted upload, its measured quality, and its pose against the baseline (None without one)."""

    image: Photo
    quality: quality.ImageQuality
    pose: FoundPose | None = None


def check_angle(angle: object) -> str:
    """The angle name, or Invalid."""
    if angle not in ANGLES:
        raise Invalid(f"angle must be one of: {', '.join(ANGLES)}.", code="invalid_angle")
    return str(angle)


def decode_upload(data: bytes, thresholds: quality.QualityThresholds = quality.DEFAULT_THRESHOLDS) -> DecodedUpload:
    """Decode, measure and prepare an upload (ImageRejected when it is not a photo we read); at most one per core
    at a time in this process."""
    with _DECODE_SLOTS:
        return decode(data, thresholds)


def add_image(
    user_id: uuid.UUID,
    session_id: object,
    angle: object,
    data: bytes | None,
    *,
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
    if session_rows.image_count(session.id) >= max_images:
        raise Invalid(f"A session holds at most {max_images} images.", code="too_many_images")
    # Decoded and measured (pixels: mostly outside the GIL) while the baseline's photo of the angle is read.
    decoding = _PIXEL_POOL.submit(decode_upload, data, thresholds)
    reference = baseline_reference(user_id, session.id, angle)
    decoded = decoding.result()
    loaded, measured = decoded.loaded, decoded.quality
    image_id = uuid.uuid4()
    image = Photo(
        id=image_id,
        session_id=session.id,
        angle=angle,
        storage_key=image_key(user_id, session.id, image_id, "jpg"),
        sha256=hashlib.sha256(data).hexdigest(),
        size_bytes=len(data),
        width=loaded.width,
        height=loaded.height,
        format=loaded.format,
    )
    store.save_quality(image, measured)
    # The pose is registered (OpenCV, outside the GIL) while the files are sealed and written and the row committed.
    posing = None if reference is None else _PIXEL_POOL.submit(upload_pose, decoded.working_pixels, reference)
    try:
        store.add(image, decoded.kept, decoded.working)
    finally:
        found = _pose_of(posing)
    return StoredImage(image=image, quality=measured, pose=found)


def _pose_of(posing: Future | None) -> FoundPose | None:
    """The registered pose, or None: without a baseline, or when registering failed (the photo is stored all the
    same; its pose is a hint, never a reason to refuse it)."""
    if posing is None:
        return None
    try:
        return posing.result()
    except Exception as exc:  # noqa: BLE001 - any failure of the hint must not fail a stored upload
        log.warning("pose not measured", extra={"error_type": type(exc).__name__})
        return None


def get_owned_image(user_id: uuid.UUID, session_id: object, image_id: object) -> Photo:
    """The caller's image in the caller's session, or NotFound."""
    session = get_owned_session(user_id, session_id)
    image = store.in_session(parse_id(image_id), session.id)
    if image is None:
        raise NotFound("Image not found.")
    return image


def delete_image(user_id: uuid.UUID, session_id: object, image_id: object) -> None:
    """Remove one image row and its files."""
    image = get_owned_image(user_id, session_id, image_id)
    if image.session.status != SessionStatus.IN_PROGRESS:
        raise Conflict("Photos of a completed session cannot be removed one by one.", code="session_completed")
    store.delete(image)
