"""Data rights: erase the account, export the account's data."""

from flask import Blueprint, Response

from ..services import accounts, export
from .common import config, current_user, ok

bp = Blueprint("account", __name__, url_prefix="/account")


@bp.delete("")
def delete_account():
    """Erase the caller: rows, vectors, image files and tokens."""
    accounts.delete_account(current_user().id, config("UPLOAD_DIR"))
    return ok({"deleted": True})


@bp.get("/export")
def export_account():
    """The caller's images and a JSON of sessions and analyses, as a ZIP."""
    user = current_user()
    response = Response(export.export_user(user, config("UPLOAD_DIR")), mimetype="application/zip")
    response.headers["Content-Disposition"] = f'attachment; filename="{export.export_filename(user.id)}"'
    return response
