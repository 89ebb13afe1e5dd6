"""What a signed image link serves: the photo it names as a display copy (made as it arrives), a thumbnail, or
the original as kept."""

import uuid

from ..db import db
from ..errors import NotFound
from ..models import Photo
from ..store import images as store
from ..vision.upload import display_copy, thumbnail
from .sessions import parse_id


def linked_image(image_id: object) -> Photo:
    """The photo a signed link names; NotFound when it is gone."""
    image = store.get(parse_id(image_id))
    if image is None:
        raise NotFound("Not found.")
    return image


def display_bytes(image: Photo) -> bytes:
    """The photo's display copy: kept since its upload, or made now from the original and kept."""
    try:
        return store.display(image)
    except FileNotFoundError:
        made = display_copy(store.original(image))
        store.keep_display(image.id, image.storage_key, made)
        return made


def make_display(image_id: uuid.UUID) -> bool:
    """Make a just-uploaded photo's display copy in the background; False when the photo is gone or has one."""
    image = store.get(image_id)
    try:
        if image is None or store.has_display(image):
            return False
        key = image.storage_key
        made = display_copy(store.original(image))
        # The pixels were read in a short transaction; the copy is kept in one that holds the row.
        db.session.rollback()
        return store.keep_display(image_id, key, made)
    except (FileNotFoundError, NotFound):
        return False
    finally:
        db.session.rollback()


def preview_bytes(image: Photo, variant: str) -> bytes:
    """The original as kept, the display copy, or a thumbnail of the display copy."""
    try:
        if variant == "original":
            return store.original(image)
        shown = display_bytes(image)
    except FileNotFoundError:
        raise NotFound("Not found.") from None
    return thumbnail(shown) if variant == "thumb" else shown
