"""Account routes: register, login, logout, me."""

from flask import Blueprint, g, request
from spectree import Response

from ..schemas.common import ErrorBody, Ok
from ..schemas.requests import Credentials
from ..schemas.resources import LoggedOut, TokenOut, UserOut
from ..services import accounts
from ..web.extensions import limiter, spec
from .common import config, current_user, ok, public
from .serializers import token_out, user_out

bp = Blueprint("auth", __name__, url_prefix="/auth")
TAGS = ("account",)


def _auth_limit() -> str:
    return config("AUTH_RATE_LIMIT")


def _login_limit() -> str:
    return config("LOGIN_RATE_LIMIT")


@bp.post("/register")
@public
@limiter.limit(_auth_limit)
@spec.validate(resp=Response(HTTP_201=Ok[TokenOut], HTTP_409=ErrorBody, HTTP_429=ErrorBody), tags=TAGS, security={})
def register(json: Credentials):
    """Create an account and return a token."""
    return ok(token_out(accounts.register(json.email, json.password, config("TOKEN_TTL_HOURS"))), 201)


@bp.post("/login")
@public
@limiter.limit(_login_limit)
@spec.validate(resp=Response(HTTP_200=Ok[TokenOut], HTTP_401=ErrorBody, HTTP_429=ErrorBody), tags=TAGS, security={})
def login(json: Credentials):
    """Exchange email and password for a token."""
    issued = accounts.login(
        json.email, json.password, config("TOKEN_TTL_HOURS"), secret=config("SECRET_KEY"), address=request.remote_addr
    )
    return ok(token_out(issued))


@bp.post("/logout")
@spec.validate(resp=Response(HTTP_200=Ok[LoggedOut], HTTP_401=ErrorBody), tags=TAGS)
def logout():
    """Revoke the token used for this request."""
    accounts.logout(g.token)
    return ok(LoggedOut())


@bp.get("/me")
@spec.validate(resp=Response(HTTP_200=Ok[UserOut], HTTP_401=ErrorBody), tags=TAGS)
def me():
    """The caller's account."""
    return ok(user_out(current_user()))
