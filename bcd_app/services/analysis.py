"""analyze_session: quality, embeddings, comparison layers, interpretation and confidence, stored in one transaction."""

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from sqlalchemy import delete, func, select

from ..constants import ANGLES, MIRROR_PAIR, SessionStatus
from ..errors import Conflict, NotFound
from ..extensions import db
from ..models import (
    AngleAnalysis,
    AngleEmbedding,
    CaptureSession,
    Image,
    SessionAnalysis,
    SessionEmbedding,
)
from ..schemas.analysis import (
    AnalysisResult,
    AngleResult,
    BaselineUsed,
    ConfidenceComponents,
    ImageQuality,
    ImageQualityReport,
    ImageQualitySummary,
    LayerComparison,
    ModelUsed,
    Scores,
)
from ..schemas.analysis import SessionAnalysis as SessionAnalysisBody
from . import (
    aggregates,
    comparison,
    confidence,
    image_features,
    interpretation,
    preprocessing,
    quality,
    region_analysis,
    storage,
)
from . import images as images_service
from .embeddings import ModelInfo, embedder, normalise
from .images import QUALITY_COLUMNS

ANALYSIS_VERSION = "3.0"
TREND_SESSIONS = 5
# Preference order of the layer a summary speaks of.
SUMMARY_LAYERS = ("baseline", "previous")

Progress = Callable[[int, int, str], None]


@dataclass
class AnalysisSettings:
    """What the analysis needs from configuration."""

    upload_dir: str
    thresholds: quality.QualityThresholds = field(default_factory=quality.QualityThresholds)
    # Register each angle onto the baseline and compare it region by region (REGION_ANALYSIS).
    regions: bool = True


@dataclass(frozen=True)
class Embedded:
    """A session's vectors (per angle, the session's, the mirrored right view's) and each image's feature map."""

    angles: dict[str, np.ndarray]
    session: np.ndarray
    mirrored_right: np.ndarray | None
    maps: list[np.ndarray | None]


def _no_progress(done: int, total: int, stage: str) -> None:
    """Default progress sink."""


def baseline_session_id(user_id: uuid.UUID, model_version: str) -> uuid.UUID | None:
    """The user's picked baseline, else their first analysed session."""
    picked = db.session.scalar(
        select(CaptureSession.id).where(CaptureSession.user_id == user_id, CaptureSession.is_baseline.is_(True))
    )
    if picked is not None:
        return picked
    return db.session.scalar(
        select(CaptureSession.id)
        .join(SessionEmbedding, SessionEmbedding.session_id == CaptureSession.id)
        .where(CaptureSession.user_id == user_id, SessionEmbedding.model_version == model_version)
        .order_by(CaptureSession.created_at, CaptureSession.id)
        .limit(1)
    )


def _history(session: CaptureSession) -> confidence.History:
    """Earlier analysed sessions: how many, their mean brightness and their mean session quality."""
    earlier = (
        select(SessionAnalysis.session_id, SessionAnalysis.session_quality_score)
        .join(CaptureSession, CaptureSession.id == SessionAnalysis.session_id)
        .where(CaptureSession.user_id == session.user_id, CaptureSession.created_at < session.created_at)
        .subquery()
    )
    count, mean_quality = db.session.execute(select(func.count(), func.avg(earlier.c.session_quality_score))).one()
    brightness = db.session.scalar(
        select(func.avg(Image.brightness)).where(Image.session_id.in_(select(earlier.c.session_id)))
    )
    return confidence.History(sessions=count or 0, brightness=float(brightness or 0), quality=float(mean_quality or 0))


def _trend_score(session: CaptureSession, change_score: float | None, trust: float) -> float | None:
    """Confidence-weighted mean change of this session and the user's last few: a shaky photo counts less."""
    earlier = db.session.execute(
        select(SessionAnalysis.change_score, SessionAnalysis.analysis_confidence_score)
        .join(CaptureSession, CaptureSession.id == SessionAnalysis.session_id)
        .where(
            CaptureSession.user_id == session.user_id,
            CaptureSession.created_at < session.created_at,
            SessionAnalysis.change_score.is_not(None),
        )
        .order_by(CaptureSession.created_at.desc())
        .limit(TREND_SESSIONS - 1)
    ).all()
    pairs = [(s, w) for s, w in [(change_score, trust), *earlier] if s is not None]
    weights = np.array([max(w, 0.05) for _, w in pairs])
    return _round(float(np.average([s for s, _ in pairs], weights=weights))) if pairs else None


def _prepare_images(
    images: list[Image], settings: AnalysisSettings, progress: Progress
) -> tuple[list[ImageQuality], list[np.ndarray]]:
    """Each image's quality and brightness-normalised working copy."""
    qualities, workings = [], []
    for done, image in enumerate(images, start=1):
        measured, normalised = _measured(image, settings)
        qualities.append(measured)
        workings.append(normalised.pixels)
        progress(done, len(images), "preprocessing")
    return qualities, workings


def _measured(image: Image, settings: AnalysisSettings) -> tuple[ImageQuality, preprocessing.Normalised]:
    """An image's quality and brightness-normalised working copy: as measured at upload (the quality stored in
    its row, the working copy kept beside it), or, for an upload from before those were kept, measured again."""
    if image.blur_effect is not None:
        measured = ImageQuality(**{name: getattr(image, name) for name in QUALITY_COLUMNS})
        return measured, images_service.normalised_working(settings.upload_dir, image)
    loaded = preprocessing.load_image(storage.read(settings.upload_dir, image.storage_key))
    measured, normalised = quality.measure(loaded, settings.thresholds)
    for name in QUALITY_COLUMNS:
        setattr(image, name, getattr(measured, name))
    return measured, normalised


def _embed(images: list[Image], workings: list[np.ndarray], by_angle: dict[str, list[int]], version: str) -> Embedded:
    """Every image's model output (kept since its upload, or computed now and kept), pooled per angle; the
    mirrored right view counts when the left view is there too."""
    kept = image_features.stored([image.id for image in images], version)
    outputs = []
    for image, pixels in zip(images, workings, strict=True):
        if image.id not in kept:
            kept[image.id] = image_features.compute(pixels, image.angle)
            image_features.keep(image.id, version, kept[image.id])
        outputs.append(kept[image.id])
    angles = {angle: normalise(np.mean([outputs[i].vector for i in idx], axis=0)) for angle, idx in by_angle.items()}
    left, right = MIRROR_PAIR
    mirrored = None
    if left in by_angle and right in by_angle:
        mirrored = normalise(np.mean([outputs[i].mirrored for i in by_angle[right]], axis=0))
    maps = [output.feature_map for output in outputs]
    return Embedded(angles, normalise(np.mean(list(angles.values()), axis=0)), mirrored, maps)


def _symmetry(embedded: Embedded) -> float | None:
    """Cosine distance of the left view to the mirrored right view, in [0, 1]; 0 = mirror images."""
    if embedded.mirrored_right is None:
        return None
    distance = comparison.cosine_distance(embedded.angles[MIRROR_PAIR[0]], embedded.mirrored_right)
    return _round(float(np.clip(distance, 0.0, 1.0)))


def analyze_session(
    session_id: uuid.UUID, settings: AnalysisSettings, progress: Progress = _no_progress, *, commit: bool = True
) -> AnalysisResult:
    """Analyse a completed session and store the complete result; returns it.

    With commit=False the caller commits, so the job's final state lands in the same transaction.
    """
    started = time.perf_counter()
    session = db.session.get(CaptureSession, session_id)
    if session is None:
        raise NotFound("Session not found.")
    if session.status != SessionStatus.COMPLETED:
        raise Conflict("Only a completed session can be analysed.", code="session_not_completed")
    images = sorted(session.images, key=lambda i: (ANGLES.index(i.angle), i.created_at))
    if not images:
        raise Conflict("The session has no images.", code="no_images")

    qualities, workings = _prepare_images(images, settings, progress)
    progress(len(images), len(images), "embedding")
    by_angle: dict[str, list[int]] = {}
    for index, image in enumerate(images):
        by_angle.setdefault(image.angle, []).append(index)
    model = embedder.info()
    embedded = _embed(images, workings, by_angle, model.version)
    # Each angle's photos, best first: the best one is compared region by region and keeps the cells.
    photos = {
        angle: [
            region_analysis.AnglePhoto.of(workings[i], embedded.maps[i])
            for i in sorted(idx, key=lambda i: -qualities[i].image_quality_score)
        ]
        for angle, idx in by_angle.items()
    }

    progress(len(images), len(images), "comparing")
    lifetime = _replace_vectors(session, embedded, {angle: shots[0].stored() for angle, shots in photos.items()}, model)
    baseline_id = baseline_session_id(session.user_id, model.version)
    ref = comparison.SessionRef(session.id, session.user_id, session.created_at)
    distances = comparison.layer_distances(ref, baseline_id, model.version, lifetime)
    overall = comparison.session_distance(session.id, baseline_id, model.version)
    found_regions = {}
    if settings.regions:
        progress(len(images), len(images), "regions")
        reference_id = baseline_id if baseline_id != session.id else None
        found_regions = region_analysis.analyse_regions(
            session.id, session.user_id, photos, reference_id, model.version, settings.upload_dir
        )
    result = _build_result(
        session, images, qualities, by_angle, distances, overall, _symmetry(embedded), found_regions,
        baseline_id, model, settings,
    )  # fmt: skip
    result = result.model_copy(update={"processing_time_ms": round((time.perf_counter() - started) * 1000, 1)})
    _store_result(session, result, model.version)
    if commit:
        db.session.commit()
    return result


def _replace_vectors(
    session: CaptureSession,
    embedded: Embedded,
    kept: dict[str, tuple[bytes | None, bytes]],
    model: ModelInfo,
) -> dict[str, float | None] | None:
    """Delete this session's angle and session vectors of this model version and write the new ones, keeping the
    running sums in step (same transaction). Returns the lifetime distances the sums give (None: they must be
    scanned)."""
    counted = aggregates.remove_session(session.user_id, session.id, model.version)
    for table in (AngleEmbedding, SessionEmbedding):
        db.session.execute(delete(table).where(table.session_id == session.id, table.model_version == model.version))
    meta = {"model_name": model.name, "model_version": model.version, "dim": model.dim}
    db.session.add_all(
        AngleEmbedding(
            session_id=session.id,
            user_id=session.user_id,
            angle=angle,
            embedding=vector,
            cells=kept[angle][0],
            region_copy=kept[angle][1],
            session_created_at=session.created_at,
            **meta,
        )
        for angle, vector in embedded.angles.items()
    )
    db.session.add(SessionEmbedding(session_id=session.id, user_id=session.user_id, embedding=embedded.session, **meta))
    db.session.flush()
    aggregates.refresh_latest(counted)
    earlier = aggregates.earlier_means(session.user_id, model.version, set(embedded.angles), session.created_at)
    aggregates.add(session.user_id, model.version, embedded.angles, session.created_at)
    if earlier is None:
        return None
    return {
        angle: comparison.cosine_distance(earlier[angle], vector) if angle in earlier else None
        for angle, vector in embedded.angles.items()
    }


def _round(value: float | None) -> float | None:
    return None if value is None else round(float(value), 4)


def _layer(distance: float | None) -> LayerComparison:
    return LayerComparison(
        distance=_round(distance),
        variation_level=interpretation.variation_level(distance),
        available=distance is not None,
    )


def _angle_result(angle, idx, images, qualities, layers, symmetry, found, thresholds) -> AngleResult:
    summary_layer = next((name for name in SUMMARY_LAYERS if layers[name] is not None), None)
    change = layers["baseline"]
    level = interpretation.variation_level(change)
    exceeds = found is not None and found.exceeds
    if exceeds and level == "Stable":
        # A place above the user's noise floor is a variation, however little it moves the whole photo.
        level = "Mild Variation"
    return AngleResult(
        angle_type=angle,
        change_score=_round(change),
        variation_level=level,
        angle_quality_score=quality.angle_quality_score([qualities[i] for i in idx], thresholds),
        image_count=len(idx),
        image_quality=[ImageQualityReport(image_id=str(images[i].id), **qualities[i].model_dump()) for i in idx],
        comparisons={name: _layer(layers[name]) for name in comparison.LAYERS},
        summary=interpretation.angle_summary(
            angle,
            summary_layer,
            level if summary_layer == "baseline" else interpretation.variation_level(layers.get(summary_layer)),
        ),
        symmetry_score=symmetry if angle in MIRROR_PAIR else None,
        alignment=None if found is None else found.alignment,
        exceeds_noise_floor=exceeds,
        regions=[] if found is None else found.regions,
    )


def _build_result(
    session, images, qualities, by_angle, distances, overall, symmetry, found_regions, baseline_id, model, settings
) -> AnalysisResult:
    thresholds = settings.thresholds
    no_layers = dict.fromkeys(comparison.LAYERS)
    per_angle = [
        _angle_result(
            angle,
            idx,
            images,
            qualities,
            distances.get(angle, no_layers),
            symmetry,
            found_regions.get(angle),
            thresholds,
        )
        for angle, idx in by_angle.items()
    ]
    alignments = [a.alignment for a in per_angle if a.alignment is not None]
    changes = [a.change_score for a in per_angle if a.change_score is not None]
    angle_aware = _round(np.mean(changes)) if changes else None
    session_quality, consistency = quality.session_quality_score(
        {angle: [qualities[i] for i in idx] for angle, idx in by_angle.items()}, thresholds
    )
    history = _history(session)
    trust = confidence.analysis_confidence(
        image_scores=[q.image_quality_score for q in qualities],
        image_brightness=[q.brightness for q in qualities],
        low_confidence_flags=[q.low_confidence for q in qualities],
        images_per_angle=[len(idx) for idx in by_angle.values()],
        angle_consistency=consistency,
        history=history,
        aligned_share=float(np.mean([a.ok for a in alignments])) if alignments else None,
    )
    used = [name for name in comparison.LAYERS if any(a.comparisons[name].available for a in per_angle)]
    summary_layer = next((name for name in SUMMARY_LAYERS if name in used), None)
    # Words speak of the angle-aware score: one view's change is not averaged away by the others.
    level = interpretation.variation_level(
        angle_aware if summary_layer == "baseline" else _mean_distance(per_angle, summary_layer)
    )
    if level == "Stable" and any(a.exceeds_noise_floor for a in per_angle):
        level = "Mild Variation"
    baseline = db.session.get(CaptureSession, baseline_id) if baseline_id and baseline_id != session.id else None
    all_low = trust.components["all_images_low_confidence"]
    return AnalysisResult(
        session_id=str(session.id),
        is_first_session=history.sessions == 0 and not used,
        from_cache=False,
        scores=Scores(
            change_score=_round(overall),
            variation_level=interpretation.variation_level(overall),
            trend_score=_trend_score(session, _round(overall), trust.score),
            angle_aware_score=angle_aware,
            angle_aware_variation_level=interpretation.variation_level(angle_aware),
            symmetry_score=symmetry,
            change_confidence_interval=confidence.change_interval(_round(overall), trust.score, len(per_angle)),
            analysis_confidence_score=trust.score,
            session_quality_score=session_quality,
            analysis_version=ANALYSIS_VERSION,
        ),
        session_analysis=SessionAnalysisBody(
            per_angle=per_angle,
            overall_summary=interpretation.overall_summary(level, summary_layer, len(per_angle), all_low),
        ),
        interpretation=interpretation.interpret(
            level=level,
            layer=summary_layer,
            angle_count=len(per_angle),
            confidence=trust.score,
            analysed_sessions=history.sessions + 1,
            angle_mismatch=any(not a.ok for a in alignments),
            all_low_confidence=all_low,
        ),
        localized_insights=region_analysis.insights(per_angle),
        image_quality_summary=ImageQualitySummary(
            session_quality_score=session_quality,
            analysis_confidence_score=trust.score,
            consistency_score=consistency,
            low_quality_angles=sorted(a.angle_type for a in per_angle if a.angle_quality_score < 0.5),
            blurry_images_count=sum(q.is_blurry for q in qualities),
            low_confidence_images_count=sum(q.low_confidence for q in qualities),
            total_images=len(qualities),
        ),
        baseline_used=BaselineUsed(session_id=str(baseline.id), created_at=baseline.created_at.isoformat())
        if baseline and "baseline" in used
        else None,
        comparison_layers_used=used,
        confidence_components=ConfidenceComponents.model_validate(trust.components),
        model=ModelUsed(name=model.name, version=model.version, dim=model.dim),
        processing_time_ms=0.0,
    )


def _mean_distance(per_angle: list[AngleResult], layer: str | None) -> float | None:
    if layer is None:
        return None
    distances = [a.comparisons[layer].distance for a in per_angle if a.comparisons[layer].available]
    return float(np.mean(distances)) if distances else None


def _store_result(session: CaptureSession, result: AnalysisResult, model_version: str) -> None:
    """Replace the session's analysis rows with this result (one transaction with the vectors).

    The JSON is the result's one rendering; the columns beside it are the index that history,
    trend, confidence and compare-sessions query.
    """
    db.session.execute(delete(AngleAnalysis).where(AngleAnalysis.session_id == session.id))
    db.session.execute(delete(SessionAnalysis).where(SessionAnalysis.session_id == session.id))
    scores = result.scores
    db.session.add(
        SessionAnalysis(
            session_id=session.id,
            user_id=session.user_id,
            change_score=scores.change_score,
            analysis_confidence_score=scores.analysis_confidence_score,
            session_quality_score=scores.session_quality_score,
            model_version=model_version,
            result=result.model_dump(mode="json"),
        )
    )
    db.session.add_all(
        AngleAnalysis(
            session_id=session.id,
            angle=angle.angle_type,
            change_score=angle.change_score,
            angle_quality_score=angle.angle_quality_score,
        )
        for angle in result.session_analysis.per_angle
    )


def stored_result(session_id: uuid.UUID, *, from_cache: bool = True) -> AnalysisResult | None:
    """The stored result (from_cache False when it was just computed for the asking request); None when not analysed."""
    stored = db.session.scalar(select(SessionAnalysis.result).where(SessionAnalysis.session_id == session_id))
    return None if stored is None else AnalysisResult.model_validate({**stored, "from_cache": from_cache})
