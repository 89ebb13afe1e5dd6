"""Helpers every route uses: the success envelope, the caller, configuration, public routes."""

from collections.abc import Callable
from typing import Any

from flask import current_app, g, request

from ..models import AuthToken, User
from ..schemas.common import Model, Ok
from ..services import accounts
from ..services.activity import Client


def ok(data: Model, status: int = 200, headers: dict | None = None) -> tuple[Ok, int, dict]:
    """The frontend's success envelope around one model: {"success": true, "data": ...}."""
    return Ok[type(data)](data=data), status, headers or {}


def current_user() -> User:
    """The authenticated caller (set by the API's auth guard)."""
    return g.user


def current_sign_in() -> AuthToken:
    """The caller's token row (set by the API's auth guard)."""
    return g.auth


def client() -> Client:
    """What is kept of the caller: browser family and address prefix."""
    return Client.of(request.headers.get("User-Agent"), request.remote_addr)


def fresh() -> None:
    """Sudo mode: 403 reauthentication_required unless the caller gave her password or a code lately."""
    accounts.require_fresh(g.auth, current_app.config["REAUTH_WINDOW_SECONDS"])


def config(name: str) -> Any:
    """A configuration value of the running app."""
    return current_app.config[name]


def public_link_limit() -> str:
    """The burst limit of the public links (calendar feeds, share pages), per address."""
    return config("PUBLIC_LINK_RATE_LIMIT")


def public(view: Callable) -> Callable:
    """Mark a view as reachable without a bearer token."""
    view.is_public = True
    return view
