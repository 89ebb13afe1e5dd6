"""analyze_session: read the session and the user's history, measure, embed, compare, build the result, store
it all in one transaction."""

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from ..constants import ANGLES, MIRROR_PAIR, SessionStatus
from ..db import db
from ..errors import Conflict, NotFound
from ..models import CaptureSession, Photo
from ..schemas.analysis import AnalysisResult, BaselineUsed, ImageQuality, ModelUsed
from ..scoring.distances import cosine_distance, to_means
from ..scoring.numbers import rounded
from ..scoring.result import TREND_SESSIONS, AnalysisInputs, build_result
from ..store import aggregates, images, results, vectors
from ..store import features as kept_features
from ..store import sessions as session_rows
from ..vision import preprocessing, quality
from ..vision.embeddings import ModelInfo, embedder, normalise
from ..vision.features import Features, compute
from ..vision.regions import AnglePhoto
from . import regions

Progress = Callable[[int, int, str], None]


@dataclass
class AnalysisSettings:
    """What the analysis needs from configuration."""

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


def _prepare_images(
    photos: list[Photo], settings: AnalysisSettings, progress: Progress
) -> tuple[list[ImageQuality], list[np.ndarray]]:
    """Each image's quality and brightness-normalised working copy."""
    qualities, workings = [], []
    for done, image in enumerate(photos, start=1):
        measured, normalised = _measured(image, settings)
        qualities.append(measured)
        workings.append(normalised.pixels)
        progress(done, len(photos), "preprocessing")
    return qualities, workings


def _measured(image: Photo, settings: AnalysisSettings) -> tuple[ImageQuality, preprocessing.Normalised]:
    """An image's quality and brightness-normalised working copy: as measured at upload (the quality stored in
    its row, the working copy kept beside it), or, for an upload from before those were kept, measured again
    (and kept on its row, in the analysis's transaction)."""
    kept = images.quality_of(image)
    if kept is not None:
        return kept, images.normalised_working(image)
    measured, normalised = quality.measure(preprocessing.load_image(images.original(image)), settings.thresholds)
    images.save_quality(image, measured)
    return measured, normalised


def _embed(photos: list[Photo], workings: list[np.ndarray], by_angle: dict[str, list[int]], version: str) -> Embedded:
    """Every image's model output (kept since its upload, or computed now and kept), pooled per angle; the
    mirrored right view counts when the left view is there too."""
    kept: dict[uuid.UUID, Features] = kept_features.stored([image.id for image in photos], version)
    outputs = []
    for image, pixels in zip(photos, workings, strict=True):
        if image.id not in kept:
            kept[image.id] = compute(pixels, image.angle)
            kept_features.keep(image.id, version, kept[image.id])
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
    distance = cosine_distance(embedded.angles[MIRROR_PAIR[0]], embedded.mirrored_right)
    return rounded(float(np.clip(distance, 0.0, 1.0)))


def _replace_vectors(
    ref: vectors.SessionRef, embedded: Embedded, kept: dict[str, tuple[bytes | None, bytes]], model: ModelInfo
) -> dict[str, float | None] | None:
    """Write the session's vectors with the running sums in step (same transaction); the lifetime distances the
    sums give, or None when they must be scanned (a re-analysis of an older session)."""
    counted = aggregates.remove_session(ref.user_id, ref.id, model.version)
    vectors.replace(ref, embedded.angles, embedded.session, kept, model)
    aggregates.refresh_latest(counted)
    earlier = aggregates.earlier_means(ref.user_id, model.version, set(embedded.angles), ref.created_at)
    aggregates.add(ref.user_id, model.version, embedded.angles, ref.created_at)
    return None if earlier is None else to_means(earlier, embedded.angles)


def _baseline_used(baseline_id: uuid.UUID | None, session_id: uuid.UUID) -> BaselineUsed | None:
    baseline = session_rows.get(baseline_id) if baseline_id and baseline_id != session_id else None
    return (
        None
        if baseline is None
        else BaselineUsed(session_id=str(baseline.id), created_at=baseline.created_at.isoformat())
    )


def _completed_session(session_id: uuid.UUID) -> CaptureSession:
    session = session_rows.hold(session_id)
    if session is None:
        raise NotFound("Session not found.")
    if session.status != SessionStatus.COMPLETED:
        raise Conflict("Only a completed session can be analysed.", code="session_not_completed")
    return session


def analyze_session(
    session_id: uuid.UUID, settings: AnalysisSettings, progress: Progress = _no_progress, *, commit: bool = True
) -> AnalysisResult:
    """Analyse a completed session and store the complete result; returns it.

    With commit=False the caller commits, so the job's final state lands in the same transaction.
    """
    started = time.perf_counter()
    session = _completed_session(session_id)
    photos = sorted(session.images, key=lambda i: (ANGLES.index(i.angle), i.created_at))
    if not photos:
        raise Conflict("The session has no images.", code="no_images")

    qualities, workings = _prepare_images(photos, settings, progress)
    progress(len(photos), len(photos), "embedding")
    by_angle: dict[str, list[int]] = {}
    for index, image in enumerate(photos):
        by_angle.setdefault(image.angle, []).append(index)
    model = embedder.info()
    embedded = _embed(photos, workings, by_angle, model.version)
    # Each angle's photos, best first: the best one is compared region by region and keeps the cells.
    shots = {
        angle: [
            AnglePhoto.of(workings[i], embedded.maps[i])
            for i in sorted(idx, key=lambda i: -qualities[i].image_quality_score)
        ]
        for angle, idx in by_angle.items()
    }

    progress(len(photos), len(photos), "comparing")
    ref = vectors.SessionRef(session.id, session.user_id, session.created_at)
    lifetime = _replace_vectors(ref, embedded, {angle: best[0].stored() for angle, best in shots.items()}, model)
    baseline_id = session_rows.baseline_id(session.user_id, model.version)
    distances = vectors.layer_distances(ref, baseline_id, model.version, lifetime)
    overall = vectors.session_distance(session.id, baseline_id, model.version)
    found_regions = {}
    if settings.regions:
        progress(len(photos), len(photos), "regions")
        reference_id = baseline_id if baseline_id != session.id else None
        found_regions = regions.analyse_regions(session.id, session.user_id, shots, reference_id, model.version)
    result = build_result(
        AnalysisInputs(
            session_id=str(session.id),
            image_ids=[str(image.id) for image in photos],
            qualities=qualities,
            by_angle=by_angle,
            distances=distances,
            overall=overall,
            symmetry=_symmetry(embedded),
            regions=found_regions,
            baseline=_baseline_used(baseline_id, session.id),
            history=results.history(session.user_id, session.created_at),
            earlier_changes=results.earlier_changes(session.user_id, session.created_at, TREND_SESSIONS - 1),
            model=ModelUsed(name=model.name, version=model.version, dim=model.dim),
            thresholds=settings.thresholds,
        )
    )
    result = result.model_copy(update={"processing_time_ms": round((time.perf_counter() - started) * 1000, 1)})
    results.replace(session, result, model.version)
    if commit:
        db.session.commit()
    return result
