"""Bad uploads: each a 4xx JSON error, with no row and no file left behind."""

import io
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageOps

from tests.helpers import create_session, data_of, plain_object, upload


def _png_with_declared_size(width: int, height: int) -> bytes:
    def chunk(kind: bytes, payload: bytes) -> bytes:
        return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")
    )


def _animated_gif() -> bytes:
    frames = [Image.new("RGB", (32, 32), color) for color in ("red", "blue")]
    buffer = io.BytesIO()
    frames[0].save(buffer, format="GIF", save_all=True, append_images=frames[1:])
    return buffer.getvalue()


def _animated_png() -> bytes:
    frames = [Image.new("RGB", (32, 32), color) for color in ("red", "blue")]
    buffer = io.BytesIO()
    frames[0].save(buffer, format="PNG", save_all=True, append_images=frames[1:])
    return buffer.getvalue()


def _long_strip() -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(np.zeros((1, 20000), np.uint8)).save(buffer, format="PNG")
    return buffer.getvalue()


def _polyglot(jpeg_bytes: bytes) -> bytes:
    import zipfile

    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("payload.txt", "hello")
    return jpeg_bytes + archive.getvalue()


BAD_FILES = {
    "empty": lambda jpeg: b"",
    "text_named_jpg": lambda jpeg: b"this is plain text, not a photo\n" * 10,
    "truncated_jpeg": lambda jpeg: jpeg[: len(jpeg) // 2],
    "png_bomb": lambda jpeg: _png_with_declared_size(60000, 60000),
    "strip_20000x1": lambda jpeg: _long_strip(),
    "animated_gif": lambda jpeg: _animated_gif(),
    "animated_png": lambda jpeg: _animated_png(),
    "polyglot_jpeg_zip": _polyglot,
    "svg": lambda jpeg: b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
}


def _nothing_stored(app, upload_dir) -> bool:
    from bcd_app.db import db
    from bcd_app.models import Photo as ImageRow

    with app.app_context():
        rows = db.session.query(ImageRow).count()
    return rows == 0 and not [p for p in Path(upload_dir).rglob("*") if p.is_file()]


@pytest.mark.parametrize("kind", sorted(BAD_FILES))
def test_bad_file_is_4xx_and_nothing_is_stored(app, client, auth, jpeg, upload_dir, kind):
    headers = auth.register()
    session_id = create_session(client, headers)
    response = upload(client, headers, session_id, BAD_FILES[kind](jpeg("astronaut")), "front")
    assert 400 <= response.status_code < 500, (kind, response.status_code)
    body = response.get_json()
    assert body["error"]["code"] and body["detail"]
    assert _nothing_stored(app, upload_dir)


def test_unknown_angle_and_missing_file_are_400(app, client, auth, jpeg, upload_dir):
    headers = auth.register()
    session_id = create_session(client, headers)
    assert upload(client, headers, session_id, jpeg(), "sideways").status_code == 400
    no_file = client.post(f"/api/sessions/{session_id}/images", data={"angle": "front"}, headers=headers)
    assert no_file.status_code == 400
    assert _nothing_stored(app, upload_dir)


def test_file_over_size_limit_is_413(app, client, auth, upload_dir):
    headers = auth.register()
    session_id = create_session(client, headers)
    app.config["MAX_CONTENT_LENGTH"] = 1024 * 1024
    try:
        response = upload(client, headers, session_id, b"\xff\xd8" + b"\0" * (2 * 1024 * 1024), "front")
    finally:
        app.config["MAX_CONTENT_LENGTH"] = 20 * 1024 * 1024
    assert response.status_code == 413
    assert response.get_json()["error"]["code"]
    assert _nothing_stored(app, upload_dir)


def test_too_many_images_in_one_session(app, client, auth, jpeg):
    headers = auth.register()
    session_id = create_session(client, headers)
    small = jpeg("coffee")
    app.config["MAX_IMAGES_PER_SESSION"] = 2
    try:
        assert upload(client, headers, session_id, small, "front").status_code == 201
        assert upload(client, headers, session_id, small, "left").status_code == 201
        refused = upload(client, headers, session_id, small, "right")
    finally:
        app.config["MAX_IMAGES_PER_SESSION"] = 30
    assert refused.status_code == 400 and refused.get_json()["error"]["code"] == "too_many_images"


def test_upload_to_completed_session_is_409(client, auth, jpeg):
    headers = auth.register()
    session_id = create_session(client, headers, "quick")
    upload(client, headers, session_id, jpeg(), "front")
    client.post(f"/api/sessions/{session_id}/complete", headers=headers)
    assert upload(client, headers, session_id, jpeg(), "left").status_code == 409


def test_exif_orientation_applied_and_metadata_stripped(app, client, auth, photos, upload_dir):
    headers = auth.register()
    session_id = create_session(client, headers)
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise on display
    exif[0x010F] = "PhoneMaker"
    buffer = io.BytesIO()
    Image.fromarray(photos["coffee"]).save(buffer, format="JPEG", exif=exif.tobytes())  # 600x400 stored
    image = data_of(upload(client, headers, session_id, buffer.getvalue(), "front"))
    assert (image["width"], image["height"]) == (400, 600)
    stored = plain_object(app, next(Path(upload_dir).rglob(f"{image['id']}.jpg")))
    with Image.open(io.BytesIO(stored)) as reopened, Image.open(io.BytesIO(buffer.getvalue())) as sent:
        # Kept losslessly: the same compressed pixels, and of the metadata only the orientation.
        assert dict(reopened.getexif()) == {0x0112: 6} and b"PhoneMaker" not in stored
        assert np.array_equal(np.asarray(reopened), np.asarray(sent))
        assert ImageOps.exif_transpose(reopened).size == (400, 600)
    working = plain_object(app, next(Path(upload_dir).rglob("*.work.npy")))
    copy = np.load(io.BytesIO(working), allow_pickle=False)
    assert copy.shape == (512, 341, 3) and copy.dtype == np.uint8  # upright, at working size, pixels only
