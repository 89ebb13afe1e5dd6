"""The cycle log: list a range of days, write or remove one day's entry (the Cycle Tracker page's log)."""

from flask import Blueprint
from spectree import Response as Responses

from ..schemas.common import ErrorBody, Ok
from ..schemas.requests import CycleLogIn, CycleRange
from ..schemas.resources import CycleLogOut, CycleLogsOut, Deleted
from ..services import cycle_log
from ..web.extensions import spec
from .common import config, current_user, ok

bp = Blueprint("cycle", __name__, url_prefix="/cycle-logs")
TAGS = ("cycle",)
ERRORS = {"HTTP_400": ErrorBody, "HTTP_401": ErrorBody}


@bp.get("")
@spec.validate(resp=Responses(HTTP_200=Ok[CycleLogsOut], **ERRORS), tags=TAGS)
def list_cycle_logs(query: CycleRange):
    """Her entries from `from` to `to` (YYYY-MM-DD, both included, at most 400 days), oldest first."""
    return ok(CycleLogsOut(entries=[CycleLogOut(**e) for e in cycle_log.entries(current_user().id, query)]))


@bp.put("/<day>")
@spec.validate(resp=Responses(HTTP_200=Ok[CycleLogOut], HTTP_403=ErrorBody, **ERRORS), tags=TAGS)
def put_cycle_log(day: str, json: CycleLogIn):
    """Write one day's entry whole (a field left out is cleared); the day is hers, at most a day ahead of today."""
    entry = cycle_log.put_entry(current_user().id, day, json, consent_required=config("CONSENT_REQUIRED"))
    return ok(CycleLogOut(**entry))


@bp.delete("/<day>")
@spec.validate(resp=Responses(HTTP_200=Ok[Deleted], HTTP_404=ErrorBody, **ERRORS), tags=TAGS)
def delete_cycle_log(day: str):
    """Remove one day's entry."""
    cycle_log.delete_entry(current_user().id, day)
    return ok(Deleted())
