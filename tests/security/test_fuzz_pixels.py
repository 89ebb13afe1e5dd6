"""Fuzz every pixel path that runs once a baseline exists with whatever the decoder accepts (tiny, extreme aspect,
flat, black, white, grey, 16-bit, palette, transparent; PNG, JPEG, WebP): the pose at upload, the comparison with
the baseline in both roles, the model's output of the photo brought onto the baseline, the region map, the capture
guide and the display copy answer without an error (pure, many examples); and through the service with a baseline
in place: upload and its pose, the background model output and comparison, the analysis, the region map and the
preview (fewer examples). Derandomized in `make test`; `make fuzz` goes deeper. Every finding is pinned below as a
named case."""

import io
import os
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image
from sqlalchemy import text

from bcd_app.constants import MIRROR_PAIR
from bcd_app.db import db
from bcd_app.errors import ImageRejected
from bcd_app.store.files import TEMPORARY_PREFIX
from bcd_app.vision import drawing, preprocessing, registration
from bcd_app.vision import regions as compare
from bcd_app.vision import upload as uploads
from bcd_app.vision.features import compute, plain
from tests import photo_data
from tests.helpers import completed_session, create_session, upload, uploads_settled

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "30"))
DERANDOMIZE = os.environ.get("FUZZ_RANDOM", "0") != "1"
SIDES = st.one_of(st.integers(1, 4), st.integers(5, 64), st.integers(65, 1200), st.sampled_from([3000, 10000]))
CONTENTS = ("black", "white", "grey", "flat", "noise", "gradient", "photo")
MODES = ("RGB", "L", "I;16", "P", "RGBA", "LA")
FORMATS = ("PNG", "JPEG", "WEBP")
# A photo the decoder may be given: (height, width, content, mode, format, seed), as `encoded` takes them.
UPLOADS = st.tuples(
    SIDES, SIDES, st.sampled_from(CONTENTS), st.sampled_from(MODES), st.sampled_from(FORMATS), st.integers(0, 2**16)
)


def _fuzzing(examples: int):
    """Hypothesis settings of this suite: `examples` cases, derandomized unless FUZZ_RANDOM=1."""
    return settings(
        max_examples=examples,
        derandomize=DERANDOMIZE,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )


def _pixels(height: int, width: int, content: str, seed: int) -> np.ndarray:
    """An RGB picture of one kind of content."""
    rng = np.random.default_rng(seed)
    if content == "black":
        return np.zeros((height, width, 3), np.uint8)
    if content == "white":
        return np.full((height, width, 3), 255, np.uint8)
    if content == "grey":
        return np.full((height, width, 3), 128, np.uint8)
    if content == "flat":
        return np.broadcast_to(rng.integers(0, 256, 3, dtype=np.uint8), (height, width, 3)).copy()
    if content == "noise":
        return rng.integers(0, 256, (height, width, 3), dtype=np.uint8)
    if content == "gradient":
        ramp = np.linspace(0, 255, width, dtype=np.float32)[None, :, None]
        return np.broadcast_to(ramp, (height, width, 3)).astype(np.uint8)
    scene = photo_data.real_photos()["astronaut"]
    return np.asarray(Image.fromarray(scene).resize((width, height)))


def encoded(height: int, width: int, content: str, mode: str, image_format: str, seed: int = 0) -> bytes:
    """The picture in one mode and format, as an upload would carry it (a format that cannot hold the mode gets
    the nearest it can)."""
    image = Image.fromarray(_pixels(height, width, content, seed))
    if mode == "I;16":
        image = Image.fromarray(np.asarray(image.convert("L")).astype(np.uint16) * 257)
    elif mode == "P":
        image = image.convert("P", palette=Image.Palette.ADAPTIVE, colors=16)
    elif mode != "RGB":
        image = image.convert(mode)
    if image_format != "PNG" and mode in ("I;16", "P", "LA", "RGBA"):
        image = image.convert("RGB")
    buffer = io.BytesIO()
    image.save(buffer, image_format)
    return buffer.getvalue()


def every_baseline_path(data: bytes, baseline: np.ndarray) -> None:
    """Run an accepted upload through each path that needs a baseline, as today's photo and as the baseline."""
    try:
        decoded = uploads.decode_upload(data)
    except ImageRejected:
        return
    today = decoded.working_pixels
    for moving, reference in ((today, baseline), (baseline, today), (today, today)):
        alignment = registration.align(moving, reference)
        found = registration.pose(alignment, moving.shape[:2], reference.shape[:2])
        assert found.ok == alignment.ok
        comparison = compare.compare(moving, reference, alignment)
        assert len(comparison.cells) == compare.GRID * compare.GRID
        if not registration.registrable(moving) or not registration.registrable(reference):
            assert not alignment.ok and alignment.method == "too_small"
            assert all(cell.coverage == 0.0 and cell.change == 0.0 for cell in comparison.cells)
        features = plain(preprocessing.normalise_brightness(comparison.canonical).pixels)
        if features.feature_map is not None:
            own = compare.own_cells(features.feature_map, reference.shape[:2])
            compare.with_semantic(comparison.cells, features.feature_map, own, reference.shape[:2])
        assert drawing.region_map(moving, reference, []).shape[0] == drawing.PANEL_HEIGHT + drawing.LEGEND_HEIGHT
    for angle in MIRROR_PAIR:
        compute(preprocessing.normalise_brightness(today).pixels, angle)
    assert drawing.capture_guide_png(today)[:4] == b"\x89PNG"
    assert uploads.display_copy(decoded.kept)[:2] == b"\xff\xd8"
    compare.AnglePhoto(today).small_copy()


@pytest.fixture(scope="module")
def baseline() -> np.ndarray:
    """A real photo's working copy, standing for the baseline's photo of an angle."""
    return preprocessing.fit_long_side(photo_data.real_photos()["astronaut"])


# Findings of this fuzzing, each once a 500 at upload or a failed background step.
PINNED = {
    "one pixel": (1, 1, "black", "RGB", "PNG"),
    "one row, 10000 wide": (1, 10000, "grey", "RGB", "PNG"),
    "one column, 10000 high": (10000, 1, "grey", "RGB", "PNG"),
    "a strip 3 px high": (3, 700, "noise", "RGB", "PNG"),
    "16-bit grey strip": (2, 3000, "gradient", "I;16", "PNG"),
    "palette thumbnail": (20, 20, "photo", "P", "PNG"),
    "transparent": (300, 200, "noise", "RGBA", "PNG"),
    "all white": (400, 300, "white", "RGB", "JPEG"),
    "webp sliver": (8, 1200, "photo", "RGB", "WEBP"),
}


@pytest.mark.parametrize("case", PINNED.values(), ids=PINNED.keys())
def test_pinned_findings_pass_every_baseline_path(case, baseline):
    every_baseline_path(encoded(*case), baseline)


@pytest.mark.slow
@given(case=UPLOADS)
@_fuzzing(EXAMPLES)
def test_any_accepted_photo_passes_every_baseline_path(case, baseline):
    every_baseline_path(encoded(*case), baseline)


@pytest.fixture()
def with_baseline(client, auth, jpeg) -> dict:
    """A user whose baseline of three real photos is analysed."""
    headers = auth.register()
    scenes = {"front": "astronaut", "left": "coffee", "right": "chelsea"}
    first = completed_session(client, headers, {angle: jpeg(name) for angle, name in scenes.items()})
    assert client.post(f"/api/analyze-session/{first}", headers=headers).status_code == 200
    return {"headers": headers, "others": {angle: jpeg(scenes[angle]) for angle in ("left", "right")}}


@pytest.mark.slow
@given(case=UPLOADS)
@_fuzzing(max(4, EXAMPLES // 5))
def test_any_accepted_photo_passes_the_service_with_a_baseline(case, app, client, with_baseline):
    """Upload (pose), background model output and comparison, analysis, region map, preview: no 5xx, no step
    marked failed, nothing left half-written."""
    headers = with_baseline["headers"]
    session_id = create_session(client, headers)
    response = upload(client, headers, session_id, encoded(*case), "front")
    assert response.status_code in (201, 400, 413), response.get_json()
    if response.status_code != 201:
        assert response.get_json()["error"]["code"]
        return
    for angle, data in with_baseline["others"].items():
        assert upload(client, headers, session_id, data, angle).status_code == 201
    uploads_settled(app)
    with app.app_context():
        assert not db.session.scalar(text("SELECT count(*) FROM images WHERE background_failure IS NOT NULL"))
        db.session.rollback()
    assert client.post(f"/api/sessions/{session_id}/complete", headers=headers).status_code == 200
    analysed = client.post(f"/api/analyze-session/{session_id}", headers=headers)
    assert analysed.status_code == 200, analysed.get_json()
    assert client.get(f"/api/sessions/{session_id}/region-map/front", headers=headers).status_code in (200, 404)
    assert client.get(f"/api/image-preview/{session_id}/front", headers=headers).status_code == 200
    assert not list(Path(app.config["UPLOAD_DIR"]).rglob(f"{TEMPORARY_PREFIX}*"))
