"""What a signed image link serves: the photo it names, as kept or as a thumbnail."""

from ..errors import NotFound
from ..models import Photo
from ..store import images as store
from ..vision.upload import thumbnail
from .sessions import parse_id


def linked_image(image_id: object) -> Photo:
    """The photo a signed link names; NotFound when it is gone."""
    image = store.get(parse_id(image_id))
    if image is None:
        raise NotFound("Not found.")
    return image


def preview_bytes(image: Photo, variant: str) -> bytes:
    """The stored JPEG, or a small thumbnail of it."""
    try:
        data = store.original(image)
    except FileNotFoundError:
        raise NotFound("Not found.") from None
    return thumbnail(data) if variant == "thumb" else data
