"""Photo rows and their files: the original as kept and its working copy."""

import uuid

import numpy as np
from sqlalchemy import select, update

from ..db import db
from ..models import Photo
from ..schemas.analysis import QUALITY_FIELDS, ImageQuality
from ..vision import preprocessing
from .files import display_key, storage, working_key


def get(image_id: uuid.UUID) -> Photo | None:
    """A photo by id, whoever owns it."""
    return db.session.get(Photo, image_id)


def in_session(image_id: uuid.UUID, session_id: uuid.UUID) -> Photo | None:
    """A photo of one session."""
    return db.session.scalar(select(Photo).where(Photo.id == image_id, Photo.session_id == session_id))


def best(session_id: uuid.UUID, angle: str) -> Photo | None:
    """A session's best photo of an angle (as best_of_angles picks it)."""
    return best_of_angles(session_id, [angle]).get(angle)


def best_of_angles(session_id: uuid.UUID, angles: list[str]) -> dict[str, Photo]:
    """angle -> a session's best photo of it, for these angles, in one query: the highest quality, the first taken
    among equals."""
    rows = db.session.scalars(
        select(Photo)
        .where(Photo.session_id == session_id, Photo.angle.in_(angles))
        .order_by(Photo.angle, Photo.image_quality_score.desc().nulls_last(), Photo.created_at, Photo.id)
        .distinct(Photo.angle)
    )
    return {photo.angle: photo for photo in rows}


def mark_background_failure(image_id: uuid.UUID, step: str) -> None:
    """Note on a photo's row that a background step raised on it (committed: the step's own work was rolled
    back)."""
    db.session.rollback()
    db.session.execute(update(Photo).where(Photo.id == image_id).values(background_failure=step))
    db.session.commit()


def quality_of(photo: Photo) -> ImageQuality | None:
    """The quality measured at upload, or None for an upload from before all of it was kept."""
    if photo.blur_effect is None:
        return None
    return ImageQuality(**{name: getattr(photo, name) for name in QUALITY_FIELDS})


def save_quality(photo: Photo, measured: ImageQuality) -> None:
    """Keep a photo's measured quality on its row (the caller commits)."""
    for name in QUALITY_FIELDS:
        setattr(photo, name, getattr(measured, name))


def add(photo: Photo, kept: bytes, working: bytes) -> None:
    """Store a photo's files and commit its row; nothing is left behind when a step fails."""
    written = []
    try:
        for key, content in ((photo.storage_key, kept), (working_key(photo.storage_key), working)):
            storage().put(key, content)
            written.append(key)
        db.session.add(photo)
        db.session.commit()
    except BaseException:
        db.session.rollback()
        for key in written:
            storage().delete(key)
        raise


def delete(photo: Photo) -> None:
    """Delete a photo's row, then its files."""
    key = photo.storage_key
    db.session.delete(photo)
    db.session.commit()
    for stored in (key, working_key(key), display_key(key)):
        storage().delete(stored)


def original(photo: Photo) -> bytes:
    """The photo as kept (FileNotFoundError when gone)."""
    return storage().get(photo.storage_key)


def display(photo: Photo) -> bytes:
    """The photo's display copy (FileNotFoundError when it has none yet)."""
    return storage().get(display_key(photo.storage_key))


def has_display(photo: Photo) -> bool:
    """Whether the photo's display copy is kept."""
    return storage().exists(display_key(photo.storage_key))


def keep_display(image_id: uuid.UUID, storage_key: str, data: bytes) -> bool:
    """Store the photo's display copy unless the photo is gone; False when it is (nothing written).

    The row is held (FOR KEY SHARE) until the caller's transaction ends: a removal of the photo, its session or
    its owner waits for the write, and then removes the copy with the rest of the files. Without the hold a copy
    could land after the removal's files were deleted and outlive its photo.
    """
    held = db.session.scalar(select(Photo.id).where(Photo.id == image_id).with_for_update(read=True, key_share=True))
    if held is None:
        return False
    storage().put(display_key(storage_key), data)
    return True


def working_pixels(photo: Photo) -> np.ndarray:
    """A photo upright at working size: the copy kept beside it, or, for an upload from before copies were
    kept, its photo decoded again (the same pixels). FileNotFoundError when both are gone."""
    try:
        return preprocessing.decode_working(storage().get(working_key(photo.storage_key)))
    except FileNotFoundError:
        return preprocessing.fit_long_side(preprocessing.load_image(original(photo)).pixels)


def normalised_working(photo: Photo) -> preprocessing.Normalised:
    """A photo's working copy, brightness-normalised: what the model and the region comparison are given."""
    return preprocessing.normalise_brightness(working_pixels(photo))
