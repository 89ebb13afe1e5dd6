"""The report a person takes to a clinician: gathered from her stored result, photos and history, rendered as a
PDF (or as the same content in a page of its own), for her or for a share link's viewer."""

import hashlib
import hmac
import uuid
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

import numpy as np

from ..constants import ACTIVE_JOB_STATES
from ..errors import Conflict
from ..models import CaptureSession, utcnow
from ..report.chart import Point, history_chart
from ..report.document import AngleSection, CycleLine, ReportData
from ..schemas.analysis import AnalysisResult, AngleResult
from ..store import images, jobs, results
from ..store import schedules as schedule_rows
from ..vision.drawing import encoded, region_map, side_by_side
from .cycle_log import days_text, logged, place_at
from .reports import stored_result
from .sessions import get_owned_session

# Photos in the report: JPEG at this quality (the panels are display size, 384 px high).
PICTURE_QUALITY = 80
CAPTIONS = {
    "map": "Left: today's photo, aligned onto the baseline's; a shaded cell differs from the baseline more than this "
    "person's usual differences between re-taken photos. Right: the baseline photo.",
    "pair": "Left: today's photo. Right: the baseline photo.",
    "alone": "Today's photo (no earlier photo of this view to compare with).",
}
# Session quality in words: at least this score reads as the word.
QUALITY_WORDS = ((0.75, "good"), (0.5, "fair"), (0.0, "poor"))


@dataclass(frozen=True)
class Gathered:
    """A session, its result and the report's content."""

    session: CaptureSession
    result: AnalysisResult
    data: ReportData


def pseudonym(secret: str, user_id: uuid.UUID) -> str:
    """A short reference that names no one: the same for all of a person's reports, meaningless without the key."""
    digest = hmac.new(secret.encode(), f"report:{user_id}".encode(), hashlib.sha256).hexdigest()[:8].upper()
    return f"R-{digest[:4]}-{digest[4:]}"


def analysed(user_id: uuid.UUID, session_id: object) -> tuple[CaptureSession, AnalysisResult]:
    """The caller's session and its result; 409 while its analysis runs, or before it has one."""
    session = get_owned_session(user_id, session_id)
    job = jobs.job_for(session.id)
    if job is not None and job.status in ACTIVE_JOB_STATES:
        raise Conflict(
            "The analysis of this session is still running; ask for the report once analyze-status says completed.",
            code="analysis_running",
        )
    return session, stored_result(session)


def layer_distance(angle: AngleResult, layer: str) -> float | None:
    """An angle's distance to one comparison layer, None when it has none."""
    return angle.comparisons[layer].distance if layer in angle.comparisons else None


def overall_level(result: AnalysisResult) -> str | None:
    """The session's level as the report states it: none for a first session (nothing was compared)."""
    return None if result.is_first_session else result.scores.variation_level


def _when(moment: datetime, zone: ZoneInfo) -> str:
    local = moment.astimezone(zone)
    return local.strftime("%d %B %Y, %H:%M ") + (local.tzname() or "")


def _pixels(session_id: uuid.UUID, angle: str) -> np.ndarray | None:
    photo = images.best(session_id, angle)
    if photo is None:
        return None
    try:
        return images.working_pixels(photo)
    except FileNotFoundError:
        return None


def _section(session: CaptureSession, result: AnalysisResult, angle: AngleResult) -> AngleSection:
    today = _pixels(session.id, angle.angle_type)
    baseline = result.baseline_used
    reference = None
    if baseline is not None and baseline.session_id != str(session.id):
        reference = _pixels(uuid.UUID(baseline.session_id), angle.angle_type)
    if today is None:
        today = np.full((384, 288, 3), 235, np.uint8)
    if reference is not None and angle.regions:
        picture, caption = region_map(today, reference, angle.regions), CAPTIONS["map"]
    elif reference is not None:
        picture, caption = side_by_side([today, reference]), CAPTIONS["pair"]
    else:
        picture, caption = side_by_side([today]), CAPTIONS["alone"]
    return AngleSection(
        angle=angle.angle_type,
        level=angle.variation_level,
        distance_to_baseline=layer_distance(angle, "baseline"),
        distance_to_previous=layer_distance(angle, "previous"),
        quality=angle.angle_quality_score,
        picture=encoded(picture, ".jpg", PICTURE_QUALITY),
        caption=caption,
        sentences=[angle.summary],
    )


def chart(user_id: uuid.UUID, session_id: uuid.UUID, baseline_id: str | None) -> bytes:
    """The history chart of a person, today's session and the baseline it was compared with marked."""
    points = [
        Point(
            row.created_at,
            row.change_score,
            row.analysis_confidence_score,
            str(row.id) == baseline_id,
            row.id == session_id,
        )
        for row in results.trend_points(user_id)
    ]
    return history_chart(points)


def cycle_lines(user_id: uuid.UUID, zone: ZoneInfo, with_notes: bool) -> list[CycleLine]:
    """Each analysed session's cycle day and phase where known, oldest first; with `with_notes`, the symptoms and
    notes she logged that day."""
    entries = logged(user_id)
    if not entries:
        return []
    texts = days_text(user_id) if with_notes else {}
    lines = []
    for row in results.trend_points(user_id):
        day = row.created_at.astimezone(zone).date()
        place = place_at(entries, row.created_at, zone)
        if place.source == "unknown":
            continue
        symptoms, other, notes = texts.get(day, (None, None, None))
        if symptoms and other:
            symptoms = [other if symptom == "other" else symptom for symptom in symptoms]
        lines.append(
            CycleLine(day.strftime("%d %B %Y"), place.cycle_day, place.phase, place.source, symptoms or None, notes)
        )
    return lines


def gather(user_id: uuid.UUID, session_id: object, secret: str, *, cycle_notes: bool = False) -> Gathered:
    """Everything the report shows of one of the person's analysed sessions (the symptoms and notes of her cycle
    log only with `cycle_notes`)."""
    session, result = analysed(user_id, session_id)
    scores = result.scores
    quality = scores.session_quality_score
    zone = ZoneInfo(schedule_rows.timezone_of(user_id))
    data = ReportData(
        reference=pseudonym(secret, user_id),
        taken_at=_when(session.created_at, zone),
        session_type=session.session_type,
        angles=[angle.angle_type for angle in result.session_analysis.per_angle],
        quality_words=f"{next(word for bound, word in QUALITY_WORDS if quality >= bound)} ({quality:.2f} of 1)",
        confidence_words=f"{result.interpretation.confidence_label} ({scores.analysis_confidence_score:.2f} of 1)",
        overall_level=overall_level(result),
        summary=result.interpretation.summary_text,
        explanation=result.interpretation.explanation_text,
        insights=list(result.localized_insights),
        first_session=result.is_first_session,
        symmetry=scores.symmetry_score,
        chart=chart(user_id, session.id, result.baseline_used.session_id if result.baseline_used else str(session.id)),
        sections=[_section(session, result, angle) for angle in result.session_analysis.per_angle],
        generated_at=_when(utcnow(), zone),
        cycle=cycle_lines(user_id, zone, cycle_notes),
    )
    return Gathered(session, result, data)
