"""Keeping the habit and recording consent: the schedule, its calendar feed, the consent texts and ledger."""

from flask import Blueprint, Response
from spectree import Response as Responses

from ..constants import CONSENT_KINDS
from ..errors import NotFound
from ..schemas.common import ErrorBody, Ok
from ..schemas.requests import ConsentIn, ScheduleIn
from ..schemas.resources import ConsentRecordOut, ConsentsOut, ConsentStateOut, ConsentTextOut, ScheduleOut
from ..services import consents, schedule
from ..web.extensions import limiter, spec
from .common import config, current_user, ok, public, public_link_limit
from .links import absolute_url

bp = Blueprint("habits", __name__)
TAGS = ("habit and consent",)
ERRORS = {"HTTP_401": ErrorBody, "HTTP_404": ErrorBody}


def _schedule_out(answer: dict) -> ScheduleOut:
    token = answer.pop("calendar_token")
    return ScheduleOut(**answer, calendar_url=absolute_url("api.habits.calendar_feed", token=token))


@bp.get("/schedule")
@spec.validate(resp=Responses(HTTP_200=Ok[ScheduleOut], **ERRORS), tags=TAGS)
def get_schedule():
    """The caller's schedule, her next due check-ins and her calendar feed's URL."""
    return ok(_schedule_out(schedule.get_schedule(current_user().id, config("SECRET_KEY"))))


@bp.put("/schedule")
@spec.validate(resp=Responses(HTTP_200=Ok[ScheduleOut], HTTP_400=ErrorBody, **ERRORS), tags=TAGS)
def put_schedule(json: ScheduleIn):
    """Set how often to take the photos, the time zone and the reminder time."""
    return ok(_schedule_out(schedule.set_schedule(current_user().id, json, config("SECRET_KEY"))))


@bp.post("/schedule/calendar-token")
@spec.validate(resp=Responses(HTTP_200=Ok[ScheduleOut], **ERRORS), tags=TAGS)
def renew_calendar_token():
    """A new calendar feed URL; the old one stops at once."""
    return ok(_schedule_out(schedule.renew_calendar_token(current_user().id, config("SECRET_KEY"))))


@bp.get("/calendar/<token>.ics")
@public
@limiter.limit(public_link_limit)
@spec.validate(resp=Responses("HTTP_200", HTTP_404=ErrorBody), tags=TAGS, security={})
def calendar_feed(token: str):
    """The iCalendar feed a phone's calendar subscribes to (the token is the capability; neutral titles)."""
    response = Response(schedule.feed(token), mimetype="text/calendar")
    response.headers["Cache-Control"] = "private, max-age=900"
    response.headers["Content-Disposition"] = 'inline; filename="check-ins.ics"'
    response.headers["X-Robots-Tag"] = "noindex"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


@bp.get("/consent-texts/<kind>")
@public
@spec.validate(resp=Responses(HTTP_200=Ok[ConsentTextOut], HTTP_404=ErrorBody), tags=TAGS, security={})
def consent_text(kind: str):
    """The current version of a consent text, with its SHA-256."""
    if kind not in CONSENT_KINDS:
        raise NotFound(f"No consent text {kind!r}; the kinds are {', '.join(CONSENT_KINDS)}.")
    text = consents.current_text(kind)
    return ok(ConsentTextOut(kind=kind, version=text.version, sha256=text.sha256, text=text.text))


def _consents_out(user_id) -> ConsentsOut:
    states, history = consents.state(user_id)
    return ConsentsOut(
        consents=[ConsentStateOut(**entry) for entry in states],
        history=[ConsentRecordOut(**consents.record_fields(entry)) for entry in history],
    )


@bp.get("/consents")
@spec.validate(resp=Responses(HTTP_200=Ok[ConsentsOut], **ERRORS), tags=TAGS)
def list_consents():
    """Each kind's current state and the whole ledger."""
    return ok(_consents_out(current_user().id))


@bp.post("/consents")
@spec.validate(resp=Responses(HTTP_201=Ok[ConsentsOut], HTTP_400=ErrorBody, HTTP_409=ErrorBody, **ERRORS), tags=TAGS)
def add_consent(json: ConsentIn):
    """Give (accepted true, to the current version) or withdraw (false) a consent; appended to the ledger."""
    user_id = current_user().id
    consents.record(user_id, json.kind, json.version, json.accepted)
    return ok(_consents_out(user_id), 201)
