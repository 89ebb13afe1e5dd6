"""The analysis result, defined once: the analysis builds it, the API renders it, the database keeps its JSON."""

from typing import Literal

from pydantic import Field, computed_field

from ..constants import CYCLE_PHASES, RESULT_LAYERS, TREND_BANDS, VARIATION_LEVELS
from .common import Fraction, Model

Layer = Literal[RESULT_LAYERS]
VariationLevel = Literal[VARIATION_LEVELS]
Trend = Literal[tuple(label for _, label in reversed(TREND_BANDS))]
ConfidenceLabel = Literal["High", "Moderate", "Low"]


def _absent(value: object) -> bool:
    """Optional fields the client copes without are left out rather than sent as null."""
    return value is None


class LayerComparison(Model):
    """One comparison layer of one angle: the cosine distance and its neutral level."""

    distance: float | None
    variation_level: VariationLevel | None
    available: bool


class ImageQuality(Model):
    """Measures, flags and score of one image (vision/quality.py measures them)."""

    blur_variance: float
    blur_effect: float
    brightness: float
    contrast: float
    clipped_dark: float
    clipped_bright: float
    noise_sigma: float
    chroma_noise: float
    blockiness: float
    is_blurry: bool
    is_too_dark: bool
    is_too_bright: bool
    low_confidence: bool
    brightness_correction: float
    image_quality_score: Fraction
    hints: list[str]


# The measured quality's field names, in order: the image row's columns and every reader derive from them.
QUALITY_FIELDS = tuple(ImageQuality.model_fields)


class ImageQualityReport(ImageQuality):
    """The measured quality of one image of the session."""

    image_id: str


class AlignmentReport(Model):
    """How today's photo of an angle was registered onto the baseline's (similarity, working-image pixels)."""

    ok: bool
    method: str
    inliers: int
    residual_px: float | None
    scale: float
    rotation_deg: float
    shift: tuple[float, float]


class RegionReport(Model):
    """One cell of the baseline's frame: its change, the user's noise floor there, whether it is above, and since
    when: against the previous session (a new difference) or only against the baseline."""

    row: int
    col: int
    bbox: tuple[Fraction, Fraction, Fraction, Fraction]
    change: float
    noise_floor: float
    exceeds_noise_floor: bool
    reference: Literal["baseline", "previous"] = "baseline"
    # What the floor came from: the calibrated prior (a new user), her history of the cell, or this session's own
    # two photos of the angle.
    floor_source: Literal["prior", "history", "session"] = "prior"


class AngleResult(Model):
    """One angle of the session: its change against the baseline, its layers, its regions and its quality."""

    angle_type: str
    change_score: float | None
    variation_level: VariationLevel | None
    angle_quality_score: Fraction
    image_count: int
    image_quality: list[ImageQualityReport]
    comparisons: dict[Layer, LayerComparison]
    summary: str
    symmetry_score: Fraction | None = Field(default=None, exclude_if=_absent)
    alignment: AlignmentReport | None = None
    exceeds_noise_floor: bool = False
    regions: list[RegionReport] = Field(default_factory=list)
    # Filled when the result is served (a signed, expiring URL is never stored).
    region_map_url: str | None = Field(default=None, exclude_if=_absent)


class SessionAnalysis(Model):
    """Every angle, and one neutral paragraph for the session."""

    per_angle: list[AngleResult]
    overall_summary: str


class Scores(Model):
    """The session's numbers. change_score is the whole-session distance; angle_aware_score the mean of the
    per-angle distances, so one angle's change is not diluted by the others."""

    change_score: float | None
    variation_level: VariationLevel | None
    trend_score: float | None
    angle_aware_score: float | None = Field(default=None, exclude_if=_absent)
    angle_aware_variation_level: VariationLevel | None = Field(default=None, exclude_if=_absent)
    symmetry_score: Fraction | None = Field(default=None, exclude_if=_absent)
    change_confidence_interval: tuple[float, float] | None = Field(default=None, exclude_if=_absent)
    analysis_confidence_score: Fraction
    session_quality_score: Fraction
    analysis_version: str


class InterpretationFlags(Model):
    """What the reader should know about how the comparison was made."""

    angle_mismatch: bool
    early_baseline: bool


class Interpretation(Model):
    """The summary card: what was compared, what it shows, and how far to trust it, in neutral words."""

    summary_text: str
    explanation_text: str
    confidence_label: ConfidenceLabel
    confidence_score: Fraction
    flags: InterpretationFlags


class ImageQualitySummary(Model):
    """The session's quality at a glance."""

    session_quality_score: Fraction
    analysis_confidence_score: Fraction
    consistency_score: Fraction
    low_quality_angles: list[str]
    blurry_images_count: int
    low_confidence_images_count: int
    total_images: int


class BaselineUsed(Model):
    """The session today's photos were compared with."""

    session_id: str
    created_at: str


class ConfidenceComponent(Model):
    """One part of the confidence score and its weight."""

    value: float | None
    weight: float
    note: str | None = Field(default=None, exclude_if=_absent)


class ConfidenceComponents(Model):
    """Everything analysis_confidence_score was made of."""

    image_quality: ConfidenceComponent
    angle_consistency: ConfidenceComponent
    images_per_angle: ConfidenceComponent
    historical_consistency: ConfidenceComponent
    low_confidence_share: Fraction
    aligned_share: Fraction | None = Field(default=None, exclude_if=_absent)
    all_images_low_confidence: bool
    warning: str | None = Field(default=None, exclude_if=_absent)


class ModelUsed(Model):
    """The embedder the vectors come from."""

    name: str
    version: str
    dim: int


class CyclePlace(Model):
    """Where a day fell in her cycle: cycle day (1 = a period's first day; null when not known), phase, and
    whether she logged that day's phase, it was estimated from her logged period starts, or is unknown."""

    cycle_day: int | None
    phase: Literal[CYCLE_PHASES]
    source: Literal["logged", "estimated", "unknown"]


class SamePhaseSession(Model):
    """Her latest earlier analysed session taken in today's phase, and the distance of the whole session to it
    (each view's is its `same_phase` comparison)."""

    session_id: str
    created_at: str
    distance: float | None


class CycleContext(Model):
    """Today's and the baseline's places in her cycle, from her cycle log; `same_phase` null unless both phases
    are known."""

    today: CyclePlace
    baseline: CyclePlace | None
    same_phase: bool | None
    insight: str | None = Field(default=None, exclude_if=_absent)
    same_phase_session: SamePhaseSession | None = Field(default=None, exclude_if=_absent)


class AnalysisResult(Model):
    """The complete result of one session's analysis, as stored and as every client reads it."""

    session_id: str
    is_first_session: bool
    from_cache: bool
    scores: Scores
    session_analysis: SessionAnalysis
    interpretation: Interpretation
    localized_insights: list[str]
    image_quality_summary: ImageQualitySummary
    baseline_used: BaselineUsed | None
    comparison_layers_used: list[Layer]
    confidence_components: ConfidenceComponents
    model: ModelUsed
    processing_time_ms: float
    # Absent only from results stored before the cycle log existed.
    cycle_context: CycleContext | None = Field(default=None, exclude_if=_absent)

    @computed_field
    @property
    def analysis_confidence_score(self) -> float:
        """The trust score at the top level too, where the seed's clients read it."""
        return self.scores.analysis_confidence_score


class LayerDelta(Model):
    """How one history layer moved between two sessions."""

    delta: float | None
    trend: Trend | None
    available: bool


class AngleDelta(Model):
    """One angle both sessions have: the change of its score and the distance between the two photos."""

    angle_type: str
    current_score: float
    previous_score: float
    delta: float
    embedding_distance: float | None
    variation_level: VariationLevel | None


class SessionComparison(Model):
    """Two analysed sessions of one user side by side (the frontend's compare-sessions)."""

    current_session_id: str
    previous_session_id: str
    per_angle: list[AngleDelta]
    overall_delta: float
    overall_trend: Trend
    comparison_method: str
    stability_index: Fraction | None
    overall_variation_level: VariationLevel | None
    baseline_used: BaselineUsed | None
    comparison_layers_used: list[Layer]
    rolling_baseline: LayerDelta
    monthly_baseline: LayerDelta
    lifetime_baseline: LayerDelta


class JobError(Model):
    """Why an analysis failed."""

    code: str | None
    message: str | None


class AnalysisStatus(Model):
    """Where a session's analysis stands."""

    session_id: str
    status: Literal["not_started", "processing", "completed", "failed"]
    progress: Fraction
    stage: str
    attempts: int
    error: JobError | None
    updated_at: str | None


class AnalysisAccepted(Model):
    """A queued analysis: poll status_url."""

    session_id: str
    status: Literal["processing"]
    status_url: str
