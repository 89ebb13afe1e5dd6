"""Data rights: erase the account, export the account's data."""

from flask import Blueprint, Response
from spectree import Response as Responses

from ..schemas.common import ErrorBody, Ok
from ..schemas.resources import Deleted
from ..services import accounts, export
from ..web.extensions import spec
from .common import current_user, ok

bp = Blueprint("account", __name__, url_prefix="/account")
TAGS = ("account",)


@bp.delete("")
@spec.validate(resp=Responses(HTTP_200=Ok[Deleted], HTTP_401=ErrorBody), tags=TAGS)
def delete_account():
    """Erase the caller: rows, vectors, image files and tokens."""
    accounts.delete_account(current_user().id)
    return ok(Deleted())


@bp.get("/export")
@spec.validate(resp=Responses("HTTP_200", HTTP_401=ErrorBody), tags=TAGS)
def export_account():
    """The caller's images and a JSON of sessions and analyses, as a ZIP."""
    user = current_user()
    response = Response(export.export_user(user), mimetype="application/zip")
    response.headers["Content-Disposition"] = f'attachment; filename="{export.export_filename(user.id)}"'
    return response
