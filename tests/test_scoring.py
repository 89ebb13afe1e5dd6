"""The pure scoring core on its own, no database, no model: confidence, neutral words and the result builder."""

import pytest

from bcd_app.constants import LAYERS, MILD_VARIATION, STABLE
from bcd_app.schemas.analysis import AlignmentReport, BaselineUsed, ImageQuality, ModelUsed, RegionReport
from bcd_app.scoring import confidence, interpretation
from bcd_app.scoring.result import AnalysisInputs, AngleRegions, build_result, trend_score
from tests.conftest import assert_neutral


def _quality(score: float = 0.9, *, low: bool = False, brightness: float = 0.5) -> ImageQuality:
    return ImageQuality(
        blur_variance=120.0, blur_effect=0.45, brightness=brightness, contrast=0.2, clipped_dark=0.0,
        clipped_bright=0.01, noise_sigma=0.8, chroma_noise=0.05, blockiness=1.1, is_blurry=low, is_too_dark=False,
        is_too_bright=False, low_confidence=low, brightness_correction=1.0, image_quality_score=score, hints=[],
    )  # fmt: skip


def _inputs(distances: dict, *, regions: dict | None = None, sessions: int = 2, low: bool = False) -> AnalysisInputs:
    angles = list(distances)
    return AnalysisInputs(
        session_id="s-1",
        image_ids=[f"i-{angle}" for angle in angles],
        qualities=[_quality(low=low) for _ in angles],
        by_angle={angle: [i] for i, angle in enumerate(angles)},
        distances={angle: {layer: distances[angle].get(layer) for layer in LAYERS} for angle in angles},
        overall=distances[angles[0]].get("baseline"),
        symmetry=None,
        regions=regions or {},
        baseline=BaselineUsed(session_id="s-0", created_at="2026-11-01T10:00:00+00:00"),
        history=confidence.History(sessions=sessions, brightness=0.5, quality=0.9),
        earlier_changes=[(0.05, 0.8)],
        model=ModelUsed(name="m", version="v", dim=1280),
    )


def _regions(exceeds: bool) -> AngleRegions:
    alignment = AlignmentReport(
        ok=True, method="orb", inliers=40, residual_px=0.5, scale=1.0, rotation_deg=0.0, shift=(0, 0)
    )
    cell = RegionReport(
        row=0, col=0, bbox=(0, 0, 1 / 3, 1 / 3), change=4.0, noise_floor=3.0, exceeds_noise_floor=exceeds
    )
    return AngleRegions(alignment, [cell])


def test_variation_levels_follow_the_bands_with_boundaries_in_the_higher_band():
    assert interpretation.variation_level(None) is None
    assert interpretation.variation_level(0.0) == STABLE
    assert interpretation.variation_level(0.10) == MILD_VARIATION
    assert interpretation.variation_level(0.25) == "Moderate Variation"
    assert interpretation.variation_level(2.0) == "Strong Variation"
    assert interpretation.variation_level(-1.0) == STABLE


def test_a_first_session_leaves_history_out_of_the_confidence():
    first = confidence.analysis_confidence([0.9], [0.5], [False], [1], 1.0, None)
    assert first.components["historical_consistency"]["weight"] == 0.0
    assert 0.0 < first.score <= 1.0


def test_every_low_confidence_photo_caps_the_confidence():
    trusted = confidence.analysis_confidence([0.9, 0.9], [0.5, 0.5], [False, False], [2], 1.0, None)
    capped = confidence.analysis_confidence([0.9, 0.9], [0.5, 0.5], [True, True], [2], 1.0, None)
    assert capped.score <= confidence.ALL_LOW_CONFIDENCE_CAP < trusted.score
    assert capped.components["all_images_low_confidence"] is True


def test_an_unregistered_view_lowers_the_confidence():
    aligned = confidence.analysis_confidence([0.9], [0.5], [False], [1], 1.0, None, aligned_share=1.0)
    unaligned = confidence.analysis_confidence([0.9], [0.5], [False], [1], 1.0, None, aligned_share=0.0)
    assert unaligned.score == pytest.approx(aligned.score * (1 - confidence.ALIGNMENT_PENALTY), abs=1e-3)


def test_the_interval_widens_as_confidence_falls():
    sure, unsure = confidence.change_interval(0.2, 1.0, 3), confidence.change_interval(0.2, 0.2, 3)
    assert unsure[1] - unsure[0] > sure[1] - sure[0]
    assert confidence.change_interval(None, 1.0, 3) is None


def test_trend_weighs_each_session_by_its_confidence_with_a_floor():
    assert trend_score(None, 1.0, []) is None
    assert trend_score(0.3, 0.0, [(0.1, 0.0)]) == pytest.approx(0.2)
    assert trend_score(0.3, 1.0, [(0.0, 0.0)]) == pytest.approx(0.3 / 1.05, abs=1e-4)


def test_a_quiet_session_reads_stable_against_the_baseline():
    result = build_result(_inputs({"front": {"baseline": 0.03, "previous": 0.02}, "left": {"baseline": 0.05}}))
    assert result.scores.variation_level == STABLE
    assert result.interpretation.summary_text == "Today's photos look stable compared with your baseline session."
    assert result.comparison_layers_used == ["baseline", "previous"]
    assert result.baseline_used.session_id == "s-0"
    assert result.localized_insights == []
    assert_neutral(result.model_dump_json())


def test_a_place_above_the_floor_lifts_a_stable_view_to_mild_and_is_worded():
    result = build_result(_inputs({"front": {"baseline": 0.03}}, regions={"front": _regions(exceeds=True)}))
    front = result.session_analysis.per_angle[0]
    assert front.variation_level == MILD_VARIATION and front.exceeds_noise_floor
    assert result.interpretation.summary_text.startswith("Today's photos show mild variation")
    assert result.localized_insights == [
        "The upper left area of the front view differs more than the rest of that view since your baseline."
    ]


def test_a_place_under_the_floor_changes_nothing():
    result = build_result(_inputs({"front": {"baseline": 0.03}}, regions={"front": _regions(exceeds=False)}))
    assert result.session_analysis.per_angle[0].variation_level == STABLE
    assert result.localized_insights == []


def test_a_first_session_is_a_reference_with_no_layer():
    result = build_result(_inputs({"front": {}}, sessions=0))
    assert result.is_first_session and result.comparison_layers_used == [] and result.baseline_used is None
    assert result.scores.variation_level is None
    assert "reference" in result.interpretation.summary_text


def test_all_low_confidence_photos_say_the_result_is_less_reliable():
    result = build_result(_inputs({"front": {"baseline": 0.3}}, low=True))
    assert result.image_quality_summary.low_confidence_images_count == 1
    assert "less reliable" in result.session_analysis.overall_summary
