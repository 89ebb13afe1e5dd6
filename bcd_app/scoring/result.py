"""The analysis result built from what the analysis measured and read: a pure function, no database."""

from dataclasses import dataclass, field

import numpy as np

from ..constants import ANALYSIS_VERSION, MILD_VARIATION, MIRROR_PAIR, RESULT_LAYERS, STABLE, SUMMARY_LAYERS
from ..schemas.analysis import (
    AlignmentReport,
    AnalysisResult,
    AngleResult,
    BaselineUsed,
    ConfidenceComponents,
    CycleContext,
    ImageQuality,
    ImageQualityReport,
    ImageQualitySummary,
    LayerComparison,
    ModelUsed,
    RegionReport,
    Scores,
    SessionAnalysis,
)
from ..vision.quality import QualityThresholds, angle_quality_score, session_quality_score
from . import confidence, interpretation
from .insights import insights
from .numbers import rounded, weighted_mean

# Sessions the trend score averages: this one and the user's last few before it.
TREND_SESSIONS = 5


@dataclass(frozen=True)
class AngleRegions:
    """An angle's region comparison with the baseline."""

    alignment: AlignmentReport
    regions: list[RegionReport]

    @property
    def exceeds(self) -> bool:
        """Whether any cell is above the user's noise floor."""
        return any(region.exceeds_noise_floor for region in self.regions)


@dataclass(frozen=True)
class AnalysisInputs:
    """Everything a result is made of: the session's photos (ids and measured quality, grouped by angle), the
    distances of each comparison layer, the region comparison, and what was read of the user's history."""

    session_id: str
    image_ids: list[str]
    qualities: list[ImageQuality]
    by_angle: dict[str, list[int]]
    distances: dict[str, dict[str, float | None]]
    overall: float | None
    symmetry: float | None
    regions: dict[str, AngleRegions]
    # The baseline compared with (another session than this one), when there is one.
    baseline: BaselineUsed | None
    history: confidence.History
    # (change score, confidence) of the user's last few earlier sessions, newest first.
    earlier_changes: list[tuple[float, float]]
    model: ModelUsed
    thresholds: QualityThresholds = field(default_factory=QualityThresholds)
    # Where today and the baseline fell in her cycle (distances carry the same_phase layer when there is one).
    cycle: CycleContext | None = None


def _layer(distance: float | None) -> LayerComparison:
    return LayerComparison(
        distance=rounded(distance),
        variation_level=interpretation.variation_level(distance),
        available=distance is not None,
    )


def _angle_result(inputs: AnalysisInputs, angle: str, indices: list[int]) -> AngleResult:
    layers = inputs.distances.get(angle, {})
    found = inputs.regions.get(angle)
    summary_layer = next((name for name in SUMMARY_LAYERS if layers.get(name) is not None), None)
    change = layers.get("baseline")
    level = interpretation.variation_level(change)
    exceeds = found is not None and found.exceeds
    if exceeds and level == STABLE:
        # A place above the user's noise floor is a variation, however little it moves the whole photo.
        level = MILD_VARIATION
    qualities = [inputs.qualities[i] for i in indices]
    return AngleResult(
        angle_type=angle,
        change_score=rounded(change),
        variation_level=level,
        angle_quality_score=angle_quality_score(qualities, inputs.thresholds),
        image_count=len(indices),
        image_quality=[
            ImageQualityReport(image_id=inputs.image_ids[i], **inputs.qualities[i].model_dump()) for i in indices
        ],
        comparisons={name: _layer(layers.get(name)) for name in RESULT_LAYERS},
        summary=interpretation.angle_summary(
            angle,
            summary_layer,
            level if summary_layer == "baseline" else interpretation.variation_level(layers.get(summary_layer)),
        ),
        symmetry_score=inputs.symmetry if angle in MIRROR_PAIR else None,
        alignment=None if found is None else found.alignment,
        exceeds_noise_floor=exceeds,
        regions=[] if found is None else found.regions,
    )


def trend_score(change_score: float | None, trust: float, earlier: list[tuple[float, float]]) -> float | None:
    """Confidence-weighted mean change of this session and the user's last few: a shaky photo counts less."""
    pairs = [(s, w) for s, w in [(change_score, trust), *earlier] if s is not None]
    return rounded(weighted_mean([s for s, _ in pairs], [w for _, w in pairs])) if pairs else None


def _mean_distance(per_angle: list[AngleResult], layer: str | None) -> float | None:
    if layer is None:
        return None
    distances = [a.comparisons[layer].distance for a in per_angle if a.comparisons[layer].available]
    return float(np.mean(distances)) if distances else None


def build_result(inputs: AnalysisInputs) -> AnalysisResult:
    """The typed result of one analysis (processing_time_ms 0: the caller times the whole run)."""
    thresholds, qualities = inputs.thresholds, inputs.qualities
    per_angle = [_angle_result(inputs, angle, indices) for angle, indices in inputs.by_angle.items()]
    alignments = [a.alignment for a in per_angle if a.alignment is not None]
    changes = [a.change_score for a in per_angle if a.change_score is not None]
    angle_aware = rounded(np.mean(changes)) if changes else None
    session_quality, consistency = session_quality_score(
        {angle: [qualities[i] for i in indices] for angle, indices in inputs.by_angle.items()}, thresholds
    )
    history = inputs.history
    trust = confidence.analysis_confidence(
        image_scores=[q.image_quality_score for q in qualities],
        image_brightness=[q.brightness for q in qualities],
        low_confidence_flags=[q.low_confidence for q in qualities],
        images_per_angle=[len(indices) for indices in inputs.by_angle.values()],
        angle_consistency=consistency,
        history=history,
        aligned_share=float(np.mean([a.ok for a in alignments])) if alignments else None,
    )
    used = [name for name in RESULT_LAYERS if any(a.comparisons[name].available for a in per_angle)]
    summary_layer = next((name for name in SUMMARY_LAYERS if name in used), None)
    # Words speak of the angle-aware score: one view's change is not averaged away by the others.
    level = interpretation.variation_level(
        angle_aware if summary_layer == "baseline" else _mean_distance(per_angle, summary_layer)
    )
    if level == STABLE and any(a.exceeds_noise_floor for a in per_angle):
        level = MILD_VARIATION
    all_low = trust.components["all_images_low_confidence"]
    overall = rounded(inputs.overall)
    interpreted = interpretation.interpret(
        level=level,
        layer=summary_layer,
        angle_count=len(per_angle),
        confidence=trust.score,
        analysed_sessions=history.sessions + 1,
        angle_mismatch=any(not a.ok for a in alignments),
        all_low_confidence=all_low,
    )
    if inputs.cycle is not None and inputs.cycle.insight:
        interpreted = interpreted.model_copy(
            update={"explanation_text": f"{interpreted.explanation_text} {inputs.cycle.insight}"}
        )
    return AnalysisResult(
        session_id=inputs.session_id,
        is_first_session=history.sessions == 0 and not used,
        from_cache=False,
        scores=Scores(
            change_score=overall,
            variation_level=interpretation.variation_level(inputs.overall),
            trend_score=trend_score(overall, trust.score, inputs.earlier_changes),
            angle_aware_score=angle_aware,
            angle_aware_variation_level=interpretation.variation_level(angle_aware),
            symmetry_score=inputs.symmetry,
            change_confidence_interval=confidence.change_interval(overall, trust.score, len(per_angle)),
            analysis_confidence_score=trust.score,
            session_quality_score=session_quality,
            analysis_version=ANALYSIS_VERSION,
        ),
        session_analysis=SessionAnalysis(
            per_angle=per_angle,
            overall_summary=interpretation.overall_summary(level, summary_layer, len(per_angle), all_low),
        ),
        interpretation=interpreted,
        localized_insights=insights(per_angle),
        image_quality_summary=ImageQualitySummary(
            session_quality_score=session_quality,
            analysis_confidence_score=trust.score,
            consistency_score=consistency,
            low_quality_angles=sorted(a.angle_type for a in per_angle if a.angle_quality_score < 0.5),
            blurry_images_count=sum(q.is_blurry for q in qualities),
            low_confidence_images_count=sum(q.low_confidence for q in qualities),
            total_images=len(qualities),
        ),
        baseline_used=inputs.baseline if "baseline" in used else None,
        comparison_layers_used=used,
        confidence_components=ConfidenceComponents.model_validate(trust.components),
        model=inputs.model,
        processing_time_ms=0.0,
        cycle_context=inputs.cycle,
    )
