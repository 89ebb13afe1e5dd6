"""The /api blueprint: every route under it needs a bearer token unless marked public."""

from flask import Blueprint, Flask, current_app, g, request

from ..errors import Unauthorized
from ..services import accounts
from . import account, analysis, auth, clinician, cycle, habits, media, sessions

api = Blueprint("api", __name__, url_prefix="/api")
for child in (auth.bp, sessions.bp, media.bp, analysis.bp, account.bp, habits.bp, cycle.bp, clinician.bp):
    api.register_blueprint(child)


@api.before_request
def _require_token() -> None:
    view = current_app.view_functions.get(request.endpoint or "")
    if request.method == "OPTIONS" or getattr(view, "is_public", False):
        return
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("A bearer token is required.", code="missing_token")
    g.token = token.strip()
    g.user, g.auth = accounts.authenticate(g.token, current_app.config["TOKEN_IDLE_HOURS"])


def init_app(app: Flask) -> None:
    """Register the API, and the public pages of share links (outside /api: no bearer token)."""
    app.register_blueprint(api)
    app.register_blueprint(clinician.shared)
