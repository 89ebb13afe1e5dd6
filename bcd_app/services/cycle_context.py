"""Where an analysed session and its baseline fell in her cycle, and the same-phase layer: the distance to her
latest earlier session taken in today's phase, so like is compared with like."""

from datetime import datetime
from zoneinfo import ZoneInfo

from ..constants import UNKNOWN_PHASE
from ..habit.cycle import Logged
from ..schemas.analysis import CycleContext, CyclePlace, SamePhaseSession
from ..scoring.insights import cycle_insight
from ..scoring.numbers import rounded
from ..store import schedules as schedule_rows
from ..store import vectors
from .cycle_log import logged, place_at


def _place(entries: list[Logged], moment: datetime, zone: ZoneInfo) -> CyclePlace:
    place = place_at(entries, moment, zone)
    return CyclePlace(cycle_day=place.cycle_day, phase=place.phase, source=place.source)


def cycle_context(
    session: vectors.SessionRef, baseline_taken: datetime | None, model_version: str
) -> tuple[CycleContext, dict[str, float]]:
    """The session's cycle context, and angle -> distance to her latest earlier analysed session in today's phase
    (empty when today's phase is unknown or no earlier session shares it). Call once the session's vectors are
    written."""
    entries = logged(session.user_id)
    zone = ZoneInfo(schedule_rows.timezone_of(session.user_id))
    today = _place(entries, session.created_at, zone)
    baseline = None if baseline_taken is None else _place(entries, baseline_taken, zone)
    known = baseline is not None and UNKNOWN_PHASE not in (today.phase, baseline.phase)
    same_session, same_distances = None, {}
    if today.phase != UNKNOWN_PHASE:
        for session_id, taken in vectors.earlier_sessions(session, model_version):
            if _place(entries, taken, zone).phase == today.phase:
                same_distances = vectors.pair_distances(session.id, session_id, model_version)
                same_session = SamePhaseSession(
                    session_id=str(session_id),
                    created_at=taken.isoformat(),
                    distance=rounded(vectors.session_distance(session.id, session_id, model_version)),
                )
                break
    context = CycleContext(
        today=today,
        baseline=baseline,
        same_phase=(today.phase == baseline.phase) if known else None,
        insight=cycle_insight(today.phase, baseline.phase) if known else None,
        same_phase_session=same_session,
    )
    return context, same_distances
