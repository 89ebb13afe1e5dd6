"""Where it changed: registration, region comparison against the noise floor, insights and the region map,
on real photos, the real model and the real database."""

import io

import cv2
import numpy as np
import pytest
from PIL import Image
from sqlalchemy import text

from bcd_app.db import db
from bcd_app.scoring.noise_floor import MIN_SCALE, PRIOR_FLOOR
from bcd_app.vision import drawing, preprocessing, registration
from tests import photo_data
from tests.helpers import completed_session, create_session, data_of, upload
from tests.photo_data import SCENES


def _moved(pixels: np.ndarray, degrees: float, dx: float, dy: float) -> tuple[np.ndarray, np.ndarray]:
    height, width = pixels.shape[:2]
    matrix = cv2.getRotationMatrix2D((width / 2, height / 2), degrees, 1.0)
    matrix[:, 2] += (dx, dy)
    return cv2.warpAffine(pixels, matrix, (width, height), borderMode=cv2.BORDER_REFLECT), matrix


@pytest.mark.parametrize("name", ["astronaut", "coffee", "chelsea", "camera"])
def test_registration_recovers_a_known_rotation_and_shift(photos, name):
    reference = preprocessing.fit_long_side(photos[name])
    moved, matrix = _moved(reference, 3.0, 9.0, -6.0)
    found = registration.align(moved, reference)
    expected = cv2.invertAffineTransform(matrix)
    height, width = reference.shape[:2]
    points = np.array([[width * 0.2, height * 0.2], [width * 0.8, height * 0.3], [width * 0.5, height * 0.8]])
    mapped = cv2.perspectiveTransform(points[None], found.matrix)[0]
    error = np.abs(mapped - (points @ expected[:, :2].T + expected[:, 2]))
    assert found.ok and found.inliers >= registration.MIN_INLIERS
    assert error.max() < 1.0, error
    assert abs(found.rotation_deg - np.degrees(np.arctan2(expected[1, 0], expected[0, 0]))) < 0.5


def test_a_featureless_photo_fails_alignment_cleanly(photos):
    flat = np.full((384, 512, 3), 140, np.uint8)
    for moving, reference in ((flat, flat), (flat, preprocessing.fit_long_side(photos["astronaut"]))):
        found = registration.align(moving, reference)
        assert found.ok is False and np.array_equal(found.matrix, registration.IDENTITY)


def _analyse(client, headers, photos_by_angle) -> dict:
    sid = completed_session(client, headers, photos_by_angle)
    response = client.post(f"/api/analyze-session/{sid}", headers=headers)
    assert response.status_code == 200, response.get_json()
    return data_of(response)


@pytest.mark.slow
def test_a_local_change_is_found_in_the_right_cell_and_mapped(app, client, auth, photos):
    headers = auth.register()
    baseline = {angle: photo_data.encode(photos[name]) for angle, name in SCENES.items()}
    first = _analyse(client, headers, baseline)
    assert first["localized_insights"] == [] and all(a["regions"] == [] for a in first["session_analysis"]["per_angle"])

    # The front view re-captured (moved 1.5 deg and a few px) with a soft reddening in its upper left area.
    height, width = photos["astronaut"].shape[:2]
    box = (int(width * 0.08), int(height * 0.08), int(width * 0.30), int(height * 0.30))
    changed, _ = _moved(photo_data.redness(photos["astronaut"], box), 1.5, 5.0, 3.0)
    today = _analyse(client, headers, {**baseline, "front": photo_data.encode(changed)})
    by_angle = {a["angle_type"]: a for a in today["session_analysis"]["per_angle"]}
    front = by_angle["front"]
    assert front["alignment"]["ok"] is True and abs(front["alignment"]["rotation_deg"]) > 1.0
    flagged = {(r["row"], r["col"]) for r in front["regions"] if r["exceeds_noise_floor"]}
    assert (0, 0) in flagged and front["exceeds_noise_floor"] is True
    assert front["variation_level"] != "Stable"
    assert len(front["regions"]) == 9 and all(0 <= v <= 1 for r in front["regions"] for v in r["bbox"])
    for angle in ("left", "right"):  # the same photos again: nothing above the floor
        assert by_angle[angle]["exceeds_noise_floor"] is False
    assert any("upper left area of the front view" in s for s in today["localized_insights"])
    assert not any("left view" in s or "right view" in s for s in today["localized_insights"])
    low, high = today["scores"]["change_confidence_interval"]
    assert low <= today["scores"]["change_score"] <= high

    signed = client.get(front["region_map_url"], headers={"Origin": "https://frontend.example"})
    assert signed.status_code == 200 and signed.mimetype == "image/png"
    assert signed.headers["Cross-Origin-Resource-Policy"] == "cross-origin"
    picture = Image.open(io.BytesIO(signed.data))
    panel_width = round(width * drawing.PANEL_HEIGHT / height)
    assert picture.size == (2 * panel_width + drawing.GAP, drawing.PANEL_HEIGHT + drawing.LEGEND_HEIGHT)
    direct = client.get(f"/api/sessions/{today['session_id']}/region-map/front", headers=headers)
    assert direct.status_code == 200 and direct.data[:8] == b"\x89PNG\r\n\x1a\n"

    intruder = auth.register()
    assert client.get(f"/api/sessions/{today['session_id']}/region-map/front", headers=intruder).status_code == 404
    assert client.get(f"/api/sessions/{first['session_id']}/region-map/front", headers=headers).status_code == 404

    user_id = data_of(client.get("/api/auth/me", headers=headers))["id"]
    with app.app_context():
        count = "SELECT count(*) FROM region_changes WHERE user_id = :u"
        assert db.session.scalar(text(count), {"u": user_id}) == 27
    assert client.delete("/api/account", headers=headers).status_code == 200
    with app.app_context():
        assert db.session.scalar(text(count), {"u": user_id}) == 0
        assert db.session.scalar(text("SELECT count(*) FROM angle_embeddings WHERE cells IS NOT NULL")) == 0


@pytest.mark.slow
def test_each_cell_says_what_its_floor_came_from(app, client, auth, photos):
    headers = auth.register()
    baseline = {angle: photo_data.encode(photos[name]) for angle, name in SCENES.items()}
    _analyse(client, headers, baseline)
    # Today: every angle again, and a second photo of the front re-taken with the phone tilted and the body bent,
    # a patch of it reddened (as a lamp's colour on one side can): the change between the two front photos is this
    # session's own noise, and raises the front's floors there.
    session_id = create_session(client, headers)
    for angle, data in baseline.items():
        assert upload(client, headers, session_id, data, angle).status_code == 201
    rng = np.random.default_rng(5)
    height, width = photos["astronaut"].shape[:2]
    reddened = photo_data.redness(photos["astronaut"], (0, 0, width // 3, height // 3))
    turned = photo_data.encode(photo_data.home_recapture(reddened, rng, ("tilt", "breath")), quality=70)
    assert upload(client, headers, session_id, turned, "front").status_code == 201
    assert client.post(f"/api/sessions/{session_id}/complete", headers=headers).status_code == 200
    today = data_of(client.post(f"/api/analyze-session/{session_id}", headers=headers))
    by_angle = {a["angle_type"]: a for a in today["session_analysis"]["per_angle"]}
    front_sources = {r["floor_source"] for r in by_angle["front"]["regions"]}
    assert "session" in front_sources and front_sources <= {"session", "history", "prior"}
    assert {r["floor_source"] for r in by_angle["left"]["regions"]} <= {"prior", "history"}
    for region in by_angle["front"]["regions"]:
        assert region["noise_floor"] >= PRIOR_FLOOR * MIN_SCALE
