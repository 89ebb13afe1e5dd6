"""Data rights and her account's record: erase the account, export its data (both in sudo mode), its activity."""

from flask import Blueprint, Response
from spectree import Response as Responses

from ..schemas.common import ErrorBody, Ok
from ..schemas.resources import ActivityEvent, ActivityOut, Deleted
from ..services import accounts, activity, export
from ..web.extensions import spec
from .common import client, current_user, fresh, ok

bp = Blueprint("account", __name__, url_prefix="/account")
TAGS = ("account",)
ERRORS = {"HTTP_401": ErrorBody, "HTTP_403": ErrorBody}


@bp.delete("")
@spec.validate(resp=Responses(HTTP_200=Ok[Deleted], **ERRORS), tags=TAGS)
def delete_account():
    """Erase the caller: rows, vectors, image files and tokens (her password or a code given lately)."""
    fresh()
    accounts.delete_account(current_user().id)
    return ok(Deleted())


@bp.get("/export")
@spec.validate(resp=Responses("HTTP_200", **ERRORS), tags=TAGS)
def export_account():
    """The caller's images and a JSON of sessions, analyses and her logs, as a ZIP (her password or a code given
    lately)."""
    fresh()
    user = current_user()
    activity.record_now(user.id, "export", client())
    response = Response(export.export_user(user), mimetype="application/zip")
    response.headers["Content-Disposition"] = f'attachment; filename="{export.export_filename(user.id)}"'
    return response


@bp.get("/activity")
@spec.validate(resp=Responses(HTTP_200=Ok[ActivityOut], HTTP_401=ErrorBody), tags=TAGS)
def account_activity():
    """Her account's events, newest first: sign-ins, password and second-factor changes, exports, share links."""
    return ok(ActivityOut(events=[ActivityEvent(**event) for event in activity.listed(current_user().id)]))
