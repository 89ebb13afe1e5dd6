"""analyze_session: quality, embeddings, comparison layers, interpretation and confidence, stored in one transaction."""

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from sqlalchemy import delete, func, select

from ..constants import ANGLES, SESSION_COMPLETED
from ..errors import Conflict, NotFound
from ..extensions import db
from ..models import (
    AngleAnalysis,
    AngleEmbedding,
    CaptureSession,
    Image,
    ImageEmbedding,
    SessionAnalysis,
    SessionEmbedding,
)
from . import comparison, confidence, interpretation, preprocessing, quality, storage
from .embeddings import embedder, normalise
from .images import QUALITY_COLUMNS

ANALYSIS_VERSION = "2.0"
TREND_SESSIONS = 5
# Preference order of the layer a summary speaks of.
SUMMARY_LAYERS = ("baseline", "previous")

Progress = Callable[[int, int, str], None]


@dataclass
class AnalysisSettings:
    """What the analysis needs from configuration."""

    upload_dir: str
    thresholds: quality.QualityThresholds = field(default_factory=quality.QualityThresholds)


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
    row = db.session.execute(
        select(
            func.count(func.distinct(Image.session_id)),
            func.avg(Image.brightness),
            func.avg(Image.image_quality_score),
        )
        .join(CaptureSession, CaptureSession.id == Image.session_id)
        .join(SessionAnalysis, SessionAnalysis.session_id == CaptureSession.id)
        .where(CaptureSession.user_id == session.user_id, CaptureSession.created_at < session.created_at)
    ).one()
    return confidence.History(sessions=row[0] or 0, brightness=float(row[1] or 0), quality=float(row[2] or 0))


def _trend_score(session: CaptureSession, change_score: float | None) -> float | None:
    earlier = db.session.scalars(
        select(SessionAnalysis.change_score)
        .join(CaptureSession, CaptureSession.id == SessionAnalysis.session_id)
        .where(
            CaptureSession.user_id == session.user_id,
            CaptureSession.created_at < session.created_at,
            SessionAnalysis.change_score.is_not(None),
        )
        .order_by(CaptureSession.created_at.desc())
        .limit(TREND_SESSIONS - 1)
    ).all()
    scores = [s for s in [change_score, *earlier] if s is not None]
    return round(float(np.mean(scores)), 4) if scores else None


def _prepare_images(
    images: list[Image], settings: AnalysisSettings, progress: Progress
) -> tuple[list[quality.ImageQuality], np.ndarray]:
    qualities, inputs = [], []
    for done, image in enumerate(images, start=1):
        data = storage.read(settings.upload_dir, image.storage_key)
        measured, normalised = quality.measure(preprocessing.load_image(data), settings.thresholds)
        for name in QUALITY_COLUMNS:
            setattr(image, name, getattr(measured, name))
        qualities.append(measured)
        inputs.append(preprocessing.model_input(normalised.pixels))
        progress(done, len(images), "preprocessing")
    return qualities, np.stack(inputs)


def _round(value: float | None) -> float | None:
    return None if value is None else round(float(value), 4)


def _layer_json(distance: float | None) -> dict:
    return {
        "distance": _round(distance),
        "variation_level": interpretation.variation_level(distance),
        "available": distance is not None,
    }


def analyze_session(
    session_id: uuid.UUID, settings: AnalysisSettings, progress: Progress = _no_progress, *, commit: bool = True
) -> dict:
    """Analyse a completed session and store the complete result; returns the result body.

    With commit=False the caller commits, so the job's final state lands in the same transaction.
    """
    started = time.perf_counter()
    session = db.session.get(CaptureSession, session_id)
    if session is None:
        raise NotFound("Session not found.")
    if session.status != SESSION_COMPLETED:
        raise Conflict("Only a completed session can be analysed.", code="session_not_completed")
    images = sorted(session.images, key=lambda i: (ANGLES.index(i.angle), i.created_at))
    if not images:
        raise Conflict("The session has no images.", code="no_images")

    qualities, inputs = _prepare_images(images, settings, progress)
    progress(len(images), len(images), "embedding")
    vectors = embedder.embed(inputs)
    model = embedder.info()

    by_angle: dict[str, list[int]] = {}
    for index, image in enumerate(images):
        by_angle.setdefault(image.angle, []).append(index)
    angle_vectors = {angle: normalise(vectors[idx].mean(axis=0)) for angle, idx in by_angle.items()}
    session_vector = normalise(np.mean(list(angle_vectors.values()), axis=0))

    progress(len(images), len(images), "comparing")
    _replace_vectors(session, images, vectors, angle_vectors, session_vector, model)
    baseline_id = baseline_session_id(session.user_id, model.version)
    ref = comparison.SessionRef(session.id, session.user_id, session.created_at)
    distances = comparison.layer_distances(ref, baseline_id, model.version)
    result = _build_result(session, images, qualities, by_angle, distances, baseline_id, model, settings)
    result["processing_time_ms"] = round((time.perf_counter() - started) * 1000, 1)
    _store_result(session, result, model.version)
    if commit:
        db.session.commit()
    return result


def _replace_vectors(session, images, vectors, angle_vectors, session_vector, model) -> None:
    """Delete this session's vectors of this model version and write the new ones (same transaction)."""
    image_ids = [image.id for image in images]
    db.session.execute(
        delete(ImageEmbedding).where(
            ImageEmbedding.image_id.in_(image_ids), ImageEmbedding.model_version == model.version
        )
    )
    for table in (AngleEmbedding, SessionEmbedding):
        db.session.execute(delete(table).where(table.session_id == session.id, table.model_version == model.version))
    meta = {"model_name": model.name, "model_version": model.version, "dim": model.dim}
    db.session.add_all(
        ImageEmbedding(image_id=image.id, model_version=model.version, embedding=vectors[i])
        for i, image in enumerate(images)
    )
    db.session.add_all(
        AngleEmbedding(session_id=session.id, user_id=session.user_id, angle=angle, embedding=vector, **meta)
        for angle, vector in angle_vectors.items()
    )
    db.session.add(SessionEmbedding(session_id=session.id, user_id=session.user_id, embedding=session_vector, **meta))
    db.session.flush()


def _build_result(session, images, qualities, by_angle, distances, baseline_id, model, settings) -> dict:
    thresholds = settings.thresholds
    per_angle = []
    quality_by_angle = {angle: [qualities[i] for i in idx] for angle, idx in by_angle.items()}
    for angle, idx in by_angle.items():
        layers = distances.get(angle, {layer: None for layer in comparison.LAYERS})
        layer = next((name for name in SUMMARY_LAYERS if layers[name] is not None), None)
        change = layers["baseline"]
        per_angle.append(
            {
                "angle_type": angle,
                "change_score": _round(change),
                "variation_level": interpretation.variation_level(change),
                "angle_quality_score": quality.angle_quality_score(quality_by_angle[angle], thresholds),
                "image_count": len(idx),
                "image_quality": [{"image_id": str(images[i].id), **qualities[i].as_dict()} for i in idx],
                "comparisons": {name: _layer_json(layers[name]) for name in comparison.LAYERS},
                "summary": interpretation.angle_summary(angle, layer, layers[layer] if layer else None),
            }
        )
    changes = [a["change_score"] for a in per_angle if a["change_score"] is not None]
    change_score = _round(np.mean(changes)) if changes else None
    session_quality, consistency = quality.session_quality_score(quality_by_angle, thresholds)
    history = _history(session)
    trust = confidence.analysis_confidence(
        image_scores=[q.image_quality_score for q in qualities],
        image_brightness=[q.brightness for q in qualities],
        low_confidence_flags=[q.low_confidence for q in qualities],
        images_per_angle=[len(idx) for idx in by_angle.values()],
        angle_consistency=consistency,
        history=history,
    )
    used = [name for name in comparison.LAYERS if any(a["comparisons"][name]["available"] for a in per_angle)]
    summary_layer = next((name for name in SUMMARY_LAYERS if name in used), None)
    level = interpretation.variation_level(change_score)
    baseline = db.session.get(CaptureSession, baseline_id) if baseline_id and baseline_id != session.id else None
    return {
        "session_id": str(session.id),
        "is_first_session": history.sessions == 0 and not used,
        "from_cache": False,
        "scores": {
            "change_score": change_score,
            "variation_level": level,
            "trend_score": _trend_score(session, change_score),
            "analysis_confidence_score": trust.score,
            "session_quality_score": session_quality,
            "analysis_version": ANALYSIS_VERSION,
        },
        "session_analysis": {
            "per_angle": per_angle,
            "overall_summary": interpretation.overall_summary(
                level if summary_layer == "baseline" else _level_of_layer(per_angle, summary_layer),
                summary_layer,
                len(per_angle),
                trust.components["all_images_low_confidence"],
            ),
        },
        "image_quality_summary": {
            "session_quality_score": session_quality,
            "analysis_confidence_score": trust.score,
            "consistency_score": consistency,
            "low_quality_angles": sorted(a["angle_type"] for a in per_angle if a["angle_quality_score"] < 0.5),
            "blurry_images_count": sum(q.is_blurry for q in qualities),
            "low_confidence_images_count": sum(q.low_confidence for q in qualities),
            "total_images": len(qualities),
        },
        "baseline_used": {"session_id": str(baseline.id), "created_at": baseline.created_at.isoformat()}
        if baseline and "baseline" in used
        else None,
        "comparison_layers_used": used,
        "confidence_components": trust.components,
        "model": {"name": model.name, "version": model.version, "dim": model.dim},
    }


def _level_of_layer(per_angle: list[dict], layer: str | None) -> str | None:
    if layer is None:
        return None
    distances = [a["comparisons"][layer]["distance"] for a in per_angle if a["comparisons"][layer]["available"]]
    return interpretation.variation_level(float(np.mean(distances))) if distances else None


def _store_result(session: CaptureSession, result: dict, model_version: str) -> None:
    """Replace the session's analysis rows with this result (one transaction with the vectors)."""
    db.session.execute(delete(AngleAnalysis).where(AngleAnalysis.session_id == session.id))
    db.session.execute(delete(SessionAnalysis).where(SessionAnalysis.session_id == session.id))
    scores, summary = result["scores"], result["image_quality_summary"]
    db.session.add(
        SessionAnalysis(
            session_id=session.id,
            user_id=session.user_id,
            change_score=scores["change_score"],
            variation_level=scores["variation_level"],
            trend_score=scores["trend_score"],
            analysis_confidence_score=scores["analysis_confidence_score"],
            session_quality_score=scores["session_quality_score"],
            consistency_score=summary["consistency_score"],
            baseline_session_id=uuid.UUID(result["baseline_used"]["session_id"]) if result["baseline_used"] else None,
            model_version=model_version,
            analysis_version=scores["analysis_version"],
            processing_time_ms=result["processing_time_ms"],
            result=result,
        )
    )
    db.session.add_all(
        AngleAnalysis(
            session_id=session.id,
            angle=angle["angle_type"],
            change_score=angle["change_score"],
            variation_level=angle["variation_level"],
            angle_quality_score=angle["angle_quality_score"],
            image_count=angle["image_count"],
            comparisons=angle["comparisons"],
            summary=angle["summary"],
        )
        for angle in result["session_analysis"]["per_angle"]
    )


def stored_result(session_id: uuid.UUID) -> dict | None:
    """The stored result body, marked as read from cache; None when not analysed."""
    row = db.session.scalar(select(SessionAnalysis).where(SessionAnalysis.session_id == session_id))
    return None if row is None else {**row.result, "from_cache": True}
