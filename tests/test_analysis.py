"""End-to-end analysis on real photos, the real model and the real database."""

import pytest

from tests import photo_data
from tests.helpers import completed_session, data_of
from tests.photo_data import SCENES

ANGLES = ("front", "left", "right")
TRUST_FIELDS = {"analysis_confidence_score", "image_quality_summary", "baseline_used", "comparison_layers_used"}


def _session_photos(photos, transform=None, scenes=SCENES) -> dict[str, bytes]:
    return {
        angle: photo_data.encode(transform(photos[name]) if transform else photos[name])
        for angle, name in scenes.items()
    }


def analyse(client, headers, session_id: str) -> dict:
    """Run the analysis synchronously (through the job queue) and return the result."""
    response = client.post(f"/api/analyze-session/{session_id}?async_process=false", headers=headers)
    assert response.status_code == 200, response.get_json()
    return data_of(response)


def _assert_trust_fields(result: dict) -> None:
    assert TRUST_FIELDS <= set(result) | set(result["scores"])
    assert 0 <= result["scores"]["analysis_confidence_score"] <= 1
    assert result["confidence_components"]["image_quality"]["weight"] > 0
    assert result["model"] == {"name": "efficientnet-lite0", "version": "efficientnet-lite0-imagenet-v1", "dim": 1280}


@pytest.mark.slow
def test_variation_levels_follow_what_changed(client, auth, photos):
    headers = auth.register()
    baseline = completed_session(client, headers, _session_photos(photos))
    first = analyse(client, headers, baseline)
    assert first["is_first_session"] is True and first["baseline_used"] is None
    assert first["scores"]["change_score"] is None and first["comparison_layers_used"] == []
    assert first["confidence_components"]["historical_consistency"]["value"] is None
    _assert_trust_fields(first)

    recapture = completed_session(client, headers, _session_photos(photos, photo_data.shift_and_light))
    again = analyse(client, headers, recapture)
    assert again["baseline_used"]["session_id"] == baseline
    levels = {a["angle_type"]: a["variation_level"] for a in again["session_analysis"]["per_angle"]}
    assert set(levels.values()) <= {"Stable", "Mild Variation"}, levels
    assert {"baseline", "previous", "rolling", "monthly", "lifetime"} == set(again["comparison_layers_used"])

    def paste_patch(pixels):
        """A large local change: a quarter of the frame replaced by another scene."""
        changed = pixels.copy()
        h, w = changed.shape[:2]
        changed[h // 4 : h * 3 // 4, w // 4 : w * 3 // 4] = photos["rocket"][
            : h * 3 // 4 - h // 4, : w * 3 // 4 - w // 4
        ]
        return changed

    local = _session_photos(photos)
    local["front"] = photo_data.encode(paste_patch(photos["astronaut"]))
    changed = analyse(client, headers, completed_session(client, headers, local))
    by_angle = {a["angle_type"]: a for a in changed["session_analysis"]["per_angle"]}
    assert by_angle["front"]["change_score"] > 2 * max(
        by_angle["left"]["change_score"], by_angle["right"]["change_score"]
    )
    assert by_angle["front"]["variation_level"] not in {"Stable"}

    other = {"front": "rocket", "left": "brick", "right": "camera"}
    different = analyse(client, headers, completed_session(client, headers, _session_photos(photos, scenes=other)))
    assert different["scores"]["variation_level"] in {"Higher Variation", "Strong Variation"}
    _assert_trust_fields(different)

    stored = data_of(client.get(f"/api/sessions/{recapture}/analysis", headers=headers))
    assert stored["from_cache"] is True
    assert _without_links(stored) == _without_links(again)


def _without_links(result: dict) -> dict:
    """A result less what differs per request: the cache flag and the freshly signed region-map URLs."""
    per_angle = [{k: v for k, v in a.items() if k != "region_map_url"} for a in result["session_analysis"]["per_angle"]]
    return {
        **{k: v for k, v in result.items() if k != "from_cache"},
        "session_analysis": {**result["session_analysis"], "per_angle": per_angle},
    }


@pytest.mark.slow
def test_blurred_session_is_less_trusted(client, auth, photos):
    headers = auth.register()
    analyse(client, headers, completed_session(client, headers, _session_photos(photos)))
    sharp = analyse(client, headers, completed_session(client, headers, _session_photos(photos)))
    blurred = analyse(
        client,
        headers,
        completed_session(client, headers, _session_photos(photos, lambda p: photo_data.gaussian_blur(p, 4))),
    )
    assert blurred["scores"]["analysis_confidence_score"] < sharp["scores"]["analysis_confidence_score"]
    assert blurred["image_quality_summary"]["blurry_images_count"] == 3
    assert blurred["confidence_components"]["all_images_low_confidence"] is True
    assert "less reliable" in blurred["session_analysis"]["overall_summary"]
