"""The original frontend's contract (../shared/CLIENT_CONTRACT.md): every call and field it reads, typed,
for a user's first three analysed sessions, on real photos, the real model and the real database."""

import numbers

import pytest

from tests import photo_data
from tests.helpers import completed_session, data_of
from tests.photo_data import OTHER_SCENES, SCENES

NUMBER = numbers.Real
TRENDS = {"stable", "mild_variation", "significant_shift"}


def _photos(photos, scenes) -> dict[str, bytes]:
    return {angle: photo_data.encode(photos[name]) for angle, name in scenes.items()}


def _is(value, kind) -> bool:
    return isinstance(value, kind) and not (kind is NUMBER and isinstance(value, bool))


def assert_result_contract(result: dict, *, first: bool) -> None:
    """Every field the Result and ClinicalSummary pages read, with the type they assume."""
    assert _is(result["session_id"], str) and _is(result["is_first_session"], bool)
    for angle in result["session_analysis"]["per_angle"]:
        assert _is(angle["angle_type"], str) and _is(angle["summary"], str)
        assert _is(angle["angle_quality_score"], NUMBER)
        assert angle["change_score"] is None if first else _is(angle["change_score"], NUMBER)
        if angle["angle_type"] in ("left", "right"):
            assert 0 <= angle["symmetry_score"] <= 1
    assert _is(result["session_analysis"]["overall_summary"], str)
    interpretation = result["interpretation"]
    assert _is(interpretation["summary_text"], str) and _is(interpretation["explanation_text"], str)
    assert interpretation["confidence_label"] in {"High", "Moderate", "Low"}
    assert _is(interpretation["confidence_score"], NUMBER)
    assert {_is(v, bool) for v in interpretation["flags"].values()} == {True}
    assert set(interpretation["flags"]) == {"angle_mismatch", "early_baseline"}
    assert _is(result["localized_insights"], list) and all(_is(s, str) for s in result["localized_insights"])
    scores = result["scores"]
    assert scores["change_score"] is None if first else _is(scores["change_score"], NUMBER)
    assert scores["trend_score"] is None or _is(scores["trend_score"], NUMBER)
    if not first:
        assert _is(scores["angle_aware_score"], NUMBER) and _is(scores["angle_aware_variation_level"], str)
    assert _is(scores["analysis_version"], str) and _is(scores["analysis_confidence_score"], NUMBER)
    assert 0 <= scores["symmetry_score"] <= 1
    assert "change_confidence_interval" not in scores or all(
        _is(v, NUMBER) for v in scores["change_confidence_interval"]
    )
    assert _is(result["processing_time_ms"], NUMBER)
    summary = result["image_quality_summary"]
    for name in ("session_quality_score", "consistency_score", "blurry_images_count", "total_images"):
        assert _is(summary[name], NUMBER), name
    assert all(_is(a, str) for a in summary["low_quality_angles"])
    assert _is(result["analysis_confidence_score"], NUMBER)
    assert "baseline_used" in result and _is(result["comparison_layers_used"], list)
    assert all(
        value is not None
        for key, value in scores.items()
        if key not in {"change_score", "trend_score", "variation_level"}
    ), scores


def assert_compare_contract(body: dict) -> None:
    """compare-sessions: numbers where the page does arithmetic, known trend words, available layers."""
    assert body["per_angle"], body
    for angle in body["per_angle"]:
        assert _is(angle["angle_type"], str) and _is(angle["delta"], NUMBER)
        assert angle["embedding_distance"] is None or _is(angle["embedding_distance"], NUMBER)
    assert _is(body["overall_delta"], NUMBER)
    assert _is(body["overall_trend"], str) and _is(body["comparison_method"], str)
    for layer in ("rolling_baseline", "monthly_baseline", "lifetime_baseline"):
        assert body[layer]["available"] is True, (layer, body[layer])
        assert _is(body[layer]["delta"], NUMBER) and body[layer]["trend"] in TRENDS


@pytest.mark.slow
def test_first_three_sessions_fill_every_field_the_frontend_reads(client, auth, photos):
    headers = auth.register()
    first_id = completed_session(client, headers, _photos(photos, SCENES))
    info = client.get(f"/api/session-info/{first_id}", headers=headers).get_json()
    assert info["is_first_session"] is True and info["previous_session_id"] is None
    # Capture fires and forgets; Result then asks without a query and gets the result itself.
    queued = client.post(f"/api/analyze-session/{first_id}?async_process=true", headers=headers)
    assert queued.status_code == 202 and data_of(queued)["status"] == "processing"
    first = data_of(client.post(f"/api/analyze-session/{first_id}", headers=headers))
    assert_result_contract(first, first=True)
    assert first["is_first_session"] is True and first["localized_insights"] == []
    assert "baseline is recorded" in first["interpretation"]["summary_text"]
    assert first["interpretation"]["flags"]["early_baseline"] is True

    same_id = completed_session(client, headers, _photos(photos, SCENES))
    same = data_of(client.post(f"/api/analyze-session/{same_id}", headers=headers))
    assert_result_contract(same, first=False)
    assert same["scores"]["angle_aware_variation_level"] == "Stable"
    assert "stable" in same["interpretation"]["summary_text"].lower()
    compared = data_of(client.post(f"/api/compare-sessions/{same_id}/{first_id}", headers=headers))
    assert_compare_contract(compared)
    assert {a["angle_type"] for a in compared["per_angle"]} == set(SCENES)

    other_id = completed_session(client, headers, _photos(photos, OTHER_SCENES))
    other = data_of(client.post(f"/api/analyze-session/{other_id}", headers=headers))
    assert_result_contract(other, first=False)
    level = other["scores"]["angle_aware_variation_level"]
    assert level in {"Higher Variation", "Strong Variation"}
    assert level.lower() in other["interpretation"]["summary_text"]
    assert "stable" not in other["interpretation"]["summary_text"].lower()
    assert other["interpretation"]["flags"]["early_baseline"] is False
    assert_compare_contract(data_of(client.post(f"/api/compare-sessions/{other_id}/{same_id}", headers=headers)))

    refreshed = client.post(f"/api/analyze-session/{other_id}?force=true", headers=headers)
    assert refreshed.status_code == 200 and data_of(refreshed)["from_cache"] is False
    assert client.delete(f"/api/delete-session/{other_id}", headers=headers).get_json() == {"success": True}


def test_compare_lists_only_angles_both_sessions_have(client, auth, jpeg):
    headers = auth.register()
    first = completed_session(
        client, headers, {"front": jpeg("astronaut"), "left": jpeg("coffee"), "up": jpeg("camera")}
    )
    second = completed_session(
        client, headers, {"front": jpeg("astronaut"), "left": jpeg("coffee"), "right": jpeg("rocket")}
    )
    for sid in (first, second):
        assert client.post(f"/api/analyze-session/{sid}", headers=headers).status_code == 200
    body = data_of(client.post(f"/api/compare-sessions/{second}/{first}", headers=headers))
    assert sorted(a["angle_type"] for a in body["per_angle"]) == ["front", "left"]
    assert_compare_contract(body)


def test_preview_url_is_absolute_and_embeddable_from_another_site(client, auth, jpeg):
    headers = auth.register()
    sid = completed_session(
        client, headers, {"front": jpeg("astronaut"), "left": jpeg("coffee"), "right": jpeg("chelsea")}
    )
    previews = client.get(f"/api/image-preview/{sid}/front", headers=headers).get_json()
    assert previews["count"] == 1 and previews["images"][0]["image_type"] == "front"
    url = previews["images"][0]["preview_url"]
    assert url.startswith("http://localhost/api/image-file/")
    image = client.get(url, headers={"Origin": "https://frontend.example"})
    assert image.status_code == 200 and image.mimetype == "image/jpeg" and image.data[:2] == b"\xff\xd8"
    assert image.headers["Cross-Origin-Resource-Policy"] == "cross-origin"
    assert "no-store" in image.headers["Cache-Control"] and image.headers["X-Content-Type-Options"] == "nosniff"


def test_preview_url_uses_the_public_base_url(app, client, auth, jpeg, monkeypatch):
    monkeypatch.setitem(app.config, "PUBLIC_BASE_URL", "https://api.example.org/")
    headers = auth.register()
    sid = completed_session(
        client, headers, {"front": jpeg("astronaut"), "left": jpeg("coffee"), "right": jpeg("chelsea")}
    )
    url = client.get(f"/api/image-preview/{sid}/left", headers=headers).get_json()["images"][0]["preview_url"]
    assert url.startswith("https://api.example.org/api/image-file/")
