"""Helpers every route uses: the success envelope, JSON body parsing, the caller, public routes."""

from collections.abc import Callable
from typing import Any

from flask import Response, current_app, g, jsonify, request

from ..errors import Invalid
from ..models import User


def ok(data: Any, status: int = 200, headers: dict | None = None) -> tuple[Response, int, dict]:
    """The frontend's success envelope: {"success": true, "data": ...}."""
    return jsonify({"success": True, "data": data}), status, headers or {}


def json_body() -> dict:
    """The request's JSON object, or Invalid."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise Invalid("The request body must be a JSON object.", code="invalid_json")
    return body


def current_user() -> User:
    """The authenticated caller (set by the API's auth guard)."""
    return g.user


def config(name: str) -> Any:
    """A configuration value of the running app."""
    return current_app.config[name]


def page_args(default_per_page: int = 20, max_per_page: int = 100) -> tuple[int, int]:
    """(page, per_page) from the query string, validated."""
    try:
        page = int(request.args.get("page", 1))
        per_page = int(request.args.get("per_page", default_per_page))
    except ValueError:
        raise Invalid("page and per_page must be whole numbers.", code="invalid_pagination") from None
    if page < 1 or not 1 <= per_page <= max_per_page:
        raise Invalid(f"page must be >= 1 and per_page 1 to {max_per_page}.", code="invalid_pagination")
    return page, per_page


def flag(name: str, default: bool = False) -> bool:
    """A boolean query flag (true/false/1/0)."""
    raw = request.args.get(name)
    if raw is None:
        return default
    if raw.lower() in ("1", "true", "yes"):
        return True
    if raw.lower() in ("0", "false", "no"):
        return False
    raise Invalid(f"{name} must be true or false.", code="invalid_flag")


def public(view: Callable) -> Callable:
    """Mark a view as reachable without a bearer token."""
    view.is_public = True
    return view
