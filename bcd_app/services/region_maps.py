"""The region map of one angle of the caller's analysed session, drawn from the stored result and both photos."""

import uuid

import numpy as np

from ..errors import NotFound
from ..store import images, results
from ..vision.drawing import region_map_png
from .sessions import get_owned_session


def _best_photo(session_id: uuid.UUID, angle: str) -> np.ndarray:
    image = images.best(session_id, angle)
    try:
        if image is not None:
            return images.working_pixels(image)
    except FileNotFoundError:
        pass
    raise NotFound("No region map for this view.")


def render(user_id: uuid.UUID, session_id: object, angle: str) -> bytes:
    """The PNG for one angle of the caller's analysed session; NotFound when it has no region comparison."""
    session = get_owned_session(user_id, session_id)
    result = results.stored(session.id)
    found = (
        None if result is None else next((a for a in result.session_analysis.per_angle if a.angle_type == angle), None)
    )
    if found is None or not found.regions or result.baseline_used is None:
        raise NotFound("No region map for this view.")
    reference = _best_photo(uuid.UUID(result.baseline_used.session_id), angle)
    return region_map_png(_best_photo(session.id, angle), reference, found.regions)
