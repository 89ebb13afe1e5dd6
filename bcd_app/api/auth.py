"""Account routes: register, login, logout, me."""

from flask import Blueprint, g

from ..extensions import limiter
from ..serializers import token_json, user_json
from ..services import accounts
from .common import config, current_user, json_body, ok, public

bp = Blueprint("auth", __name__, url_prefix="/auth")


def _auth_limit() -> str:
    return config("AUTH_RATE_LIMIT")


@bp.post("/register")
@public
@limiter.limit(_auth_limit)
def register():
    """Create an account and return a token."""
    body = json_body()
    issued = accounts.register(body.get("email"), body.get("password"), config("TOKEN_TTL_HOURS"))
    return ok(token_json(issued), 201)


@bp.post("/login")
@public
@limiter.limit(_auth_limit)
def login():
    """Exchange email and password for a token."""
    body = json_body()
    issued = accounts.login(body.get("email"), body.get("password"), config("TOKEN_TTL_HOURS"))
    return ok(token_json(issued))


@bp.post("/logout")
def logout():
    """Revoke the token used for this request."""
    accounts.logout(g.token)
    return ok({"logged_out": True})


@bp.get("/me")
def me():
    """The caller's account."""
    return ok(user_json(current_user()))
