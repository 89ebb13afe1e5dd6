"""analyze_session: read the session and the user's history, measure, embed, compare, build the result, store
it all in one transaction."""

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np

from ..constants import ANGLES, MIRROR_PAIR, SAME_PHASE, AnalysisStage, SessionStatus
from ..db import db
from ..errors import Conflict, NotFound
from ..models import CaptureSession, Photo
from ..schemas.analysis import AnalysisResult, BaselineUsed, ImageQuality, ModelUsed
from ..scoring.distances import cosine_distance, to_means
from ..scoring.numbers import rounded
from ..scoring.result import TREND_SESSIONS, AnalysisInputs, build_result
from ..store import aggregates, images, locks, results, vectors
from ..store import features as kept_features
from ..store import sessions as session_rows
from ..vision import preprocessing, quality
from ..vision.embeddings import ModelInfo, embedder, normalise
from ..vision.features import Features, compute, plain
from ..vision.regions import AnglePhoto
from . import regions
from .cycle_context import cycle_context

Progress = Callable[[int, int, str], None]
# How long the analysis waits for a photo's background work that began before it did (~0.1 s of CPU a photo;
# longer only when the machine is swamped, and then computing it again would make it worse).
IN_FLIGHT_WAIT_SECONDS = 10.0


@dataclass
class AnalysisSettings:
    """What the analysis needs from configuration."""

    thresholds: quality.QualityThresholds = field(default_factory=quality.QualityThresholds)
    # Register each angle onto the baseline and compare it region by region (REGION_ANALYSIS).
    regions: bool = True


def _no_progress(done: int, total: int, stage: str) -> None:
    """Default progress sink."""


@dataclass(frozen=True)
class Prepared:
    """Each photo's quality, its working copy as shot, and brightness-normalised (what the model is given)."""

    qualities: list[ImageQuality]
    workings: list[np.ndarray]
    normalised: list[np.ndarray]


def _prepare_images(photos: list[Photo], settings: AnalysisSettings, progress: Progress) -> Prepared:
    """Each image's quality and working copies."""
    prepared = Prepared([], [], [])
    for done, image in enumerate(photos, start=1):
        measured, working, normalised = _measured(image, settings)
        prepared.qualities.append(measured)
        prepared.workings.append(working)
        prepared.normalised.append(normalised)
        progress(done, len(photos), AnalysisStage.PREPROCESSING)
    return prepared


def _measured(image: Photo, settings: AnalysisSettings) -> tuple[ImageQuality, np.ndarray, np.ndarray]:
    """An image's quality and working copies: as measured at upload (the quality stored in its row, the working
    copy kept beside it), or, for an upload from before those were kept, measured again (and kept on its row, in
    the analysis's transaction)."""
    kept = images.quality_of(image)
    if kept is not None:
        working = images.working_pixels(image)
        return kept, working, preprocessing.normalise_brightness(working).pixels
    loaded = preprocessing.load_image(images.original(image))
    working = preprocessing.fit_long_side(loaded.pixels)
    measured, normalised = quality.measure(loaded, settings.thresholds, working)
    images.save_quality(image, measured)
    return measured, working, normalised.pixels


def _embed(
    photos: list[Photo], normalised: list[np.ndarray], best: dict[str, int], version: str
) -> dict[str, Features]:
    """angle -> the model's output as taken of the best left and right photos (the symmetry score): kept since
    the upload, or computed now and kept."""
    wanted = {angle: best[angle] for angle in MIRROR_PAIR if angle in best}
    kept: dict[uuid.UUID, Features] = kept_features.stored([photos[i].id for i in wanted.values()], version)
    for angle, index in wanted.items():
        image = photos[index]
        if image.id not in kept:
            kept[image.id] = compute(normalised[index], angle)
            kept_features.keep(image.id, version, kept[image.id])
    return {angle: kept[photos[index].id] for angle, index in wanted.items()}


def _symmetry(outputs: dict[str, Features]) -> float | None:
    """Cosine distance of the left view to the mirrored right view (each angle's best photo, as taken), in
    [0, 1]; 0 = mirror images."""
    left, right = MIRROR_PAIR
    if left not in outputs or right not in outputs:
        return None
    distance = cosine_distance(outputs[left].vector, outputs[right].mirrored)
    return rounded(float(np.clip(distance, 0.0, 1.0)))


@dataclass(frozen=True)
class _AngleOutput:
    """What the comparison layers and later sessions keep of an angle: its vector and cell vectors."""

    vector: np.ndarray
    cell_vectors: bytes | None


def _compared(
    best: dict[str, int], prepared: Prepared, shots: dict[str, list[AnglePhoto]], found: dict[str, regions.AngleFound]
) -> dict[str, _AngleOutput]:
    """angle -> the model's output the comparison layers and later sessions use: its best photo brought onto the
    baseline (frame and light) where it could be registered, so a re-taken photo reads as what changed; its
    best photo as taken otherwise (the baseline itself, a first session, an unregistered view)."""
    compared = {}
    for angle, index in best.items():
        brought = found.get(angle)
        if brought is not None and brought.vector is not None:
            compared[angle] = _AngleOutput(brought.vector, brought.cell_vectors)
        else:
            output = plain(prepared.normalised[index])
            compared[angle] = _AngleOutput(output.vector, shots[angle][0].cell_vectors(output.feature_map))
    return compared


def _replace_vectors(
    ref: vectors.SessionRef,
    angle_vectors: dict[str, np.ndarray],
    kept: dict[str, tuple[bytes | None, bytes]],
    model: ModelInfo,
) -> dict[str, float | None] | None:
    """Write the session's vectors with the running sums in step (same transaction); the lifetime distances the
    sums give, or None when they must be scanned (a re-analysis of an older session)."""
    counted = aggregates.remove_session(ref.user_id, ref.id, model.version)
    session_vector = normalise(np.mean(list(angle_vectors.values()), axis=0))
    vectors.replace(ref, angle_vectors, session_vector, kept, model)
    aggregates.refresh_latest(counted)
    earlier = aggregates.earlier_means(ref.user_id, model.version, set(angle_vectors), ref.created_at)
    aggregates.add(ref.user_id, model.version, angle_vectors, ref.created_at)
    return None if earlier is None else to_means(earlier, angle_vectors)


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
    # Background work on a photo that began before this analysis did is waited for, not done a second time (what
    # had not begun is skipped by the background now, and computed below).
    locks.await_photo_work([image.id for image in photos], IN_FLIGHT_WAIT_SECONDS)

    prepared = _prepare_images(photos, settings, progress)
    qualities = prepared.qualities
    progress(len(photos), len(photos), AnalysisStage.EMBEDDING)
    by_angle: dict[str, list[int]] = {}
    for index, image in enumerate(photos):
        by_angle.setdefault(image.angle, []).append(index)
    # Each angle's photos, best first: the best one is compared region by region and keeps the cells.
    ranked = {angle: sorted(idx, key=lambda i: -qualities[i].image_quality_score) for angle, idx in by_angle.items()}
    best = {angle: idx[0] for angle, idx in ranked.items()}
    model = embedder.info()
    outputs = _embed(photos, prepared.normalised, best, model.version)
    shots = {angle: [AnglePhoto(prepared.workings[i]) for i in idx] for angle, idx in ranked.items()}

    progress(len(photos), len(photos), AnalysisStage.COMPARING)
    ref = vectors.SessionRef(session.id, session.user_id, session.created_at)
    baseline_id = session_rows.baseline_id(session.user_id, model.version)
    found_regions: dict[str, regions.AngleFound] = {}
    if settings.regions:
        progress(len(photos), len(photos), AnalysisStage.REGIONS)
        reference_id = baseline_id if baseline_id != session.id else None
        previous_ids = vectors.previous_sessions(ref, model.version, sorted(shots))
        best_ids = {angle: photos[index].id for angle, index in best.items()}
        found_regions = regions.analyse_regions(
            session.id, session.user_id, shots, reference_id, previous_ids, model.version, best_ids
        )
    compared = _compared(best, prepared, shots, found_regions)
    kept = {angle: (output.cell_vectors, shots[angle][0].small_copy()) for angle, output in compared.items()}
    lifetime = _replace_vectors(ref, {angle: output.vector for angle, output in compared.items()}, kept, model)
    baseline_id = baseline_id or session_rows.baseline_id(session.user_id, model.version)
    distances = vectors.layer_distances(ref, baseline_id, model.version, lifetime)
    overall = vectors.session_distance(session.id, baseline_id, model.version)
    baseline = _baseline_used(baseline_id, session.id)
    cycle, same_phase = cycle_context(
        ref, None if baseline is None else datetime.fromisoformat(baseline.created_at), model.version
    )
    for angle, distance in same_phase.items():
        distances[angle][SAME_PHASE] = distance
    result = build_result(
        AnalysisInputs(
            session_id=str(session.id),
            image_ids=[str(image.id) for image in photos],
            qualities=qualities,
            by_angle=by_angle,
            distances=distances,
            overall=overall,
            symmetry=_symmetry(outputs),
            regions={angle: angle_found.regions for angle, angle_found in found_regions.items()},
            baseline=baseline,
            history=results.history(session.user_id, session.created_at),
            earlier_changes=results.earlier_changes(session.user_id, session.created_at, TREND_SESSIONS - 1),
            model=ModelUsed(name=model.name, version=model.version, dim=model.dim),
            thresholds=settings.thresholds,
            cycle=cycle,
        )
    )
    result = result.model_copy(update={"processing_time_ms": round((time.perf_counter() - started) * 1000, 1)})
    results.replace(session, result, model.version)
    if commit:
        db.session.commit()
    return result
