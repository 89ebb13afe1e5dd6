"""Typed errors raised anywhere, and the one place that turns them into JSON responses."""

import logging

from flask import Flask, Response, g, jsonify
from werkzeug.exceptions import HTTPException

log = logging.getLogger(__name__)


class ApiError(Exception):
    """Base of every error the API reports on purpose."""

    status = 400
    code = "bad_request"

    def __init__(self, message: str, *, code: str | None = None, headers: dict | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        self.headers = headers or {}


class Invalid(ApiError):
    """The request is malformed or breaks a rule."""

    status = 400
    code = "invalid"


class Unauthorized(ApiError):
    """No valid bearer token."""

    status = 401
    code = "unauthorized"


class NotFound(ApiError):
    """Unknown id, or somebody else's: the two are never told apart."""

    status = 404
    code = "not_found"


class Conflict(ApiError):
    """The resource is in a state that does not allow this."""

    status = 409
    code = "conflict"


class ImageRejected(ApiError):
    """An upload that is not an image we accept."""

    status = 422
    code = "image_rejected"


class QuotaExceeded(ApiError):
    """The per-user analysis quota is used up."""

    status = 429
    code = "quota_exceeded"


class Unavailable(ApiError):
    """The service cannot take the work now; retry later."""

    status = 503
    code = "unavailable"


def error_response(status: int, code: str, message: str, headers: dict | None = None) -> Response:
    """The one JSON error body: {"error": {code, message}, "detail", "request_id"}."""
    body = {
        "error": {"code": code, "message": message},
        "detail": message,
        "request_id": g.get("request_id"),
    }
    response = jsonify(body)
    response.status_code = status
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def _http_code(exc: HTTPException) -> str:
    return (exc.name or "error").lower().replace(" ", "_")


def init_app(app: Flask) -> None:
    """Register handlers so no error ever leaves as HTML or a bare 500 page."""

    @app.errorhandler(ApiError)
    def _api_error(exc: ApiError) -> Response:
        return error_response(exc.status, exc.code, exc.message, exc.headers)

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException) -> Response:
        headers = {}
        if exc.code == 405 and exc.valid_methods:
            headers["Allow"] = ", ".join(exc.valid_methods)
        if exc.code == 429:
            headers["Retry-After"] = "60"
        return error_response(exc.code or 500, _http_code(exc), exc.description or exc.name, headers)

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> Response:
        log.exception("unhandled error", extra={"error_type": type(exc).__name__})
        return error_response(500, "internal_error", "An internal error occurred.")
