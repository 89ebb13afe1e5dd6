"""Typed errors raised anywhere, and the one place that turns them into JSON responses."""

import logging

from flask import Flask, Response, g, jsonify
from sqlalchemy import exc as sa_exc
from sqlalchemy.orm import exc as orm_exc
from werkzeug.exceptions import HTTPException

log = logging.getLogger(__name__)
DATABASE_UNAVAILABLE = "The service is briefly unavailable; please try again shortly."
DATABASE_RETRY_AFTER_SECONDS = 5


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


class Forbidden(ApiError):
    """Not for this caller or address."""

    status = 403
    code = "forbidden"


class NotFound(ApiError):
    """Unknown id, or somebody else's: the two are never told apart."""

    status = 404
    code = "not_found"


class Conflict(ApiError):
    """The resource is in a state that does not allow this."""

    status = 409
    code = "conflict"


class UnsupportedMediaType(ApiError):
    """A body in a format the route does not read."""

    status = 415
    code = "unsupported_media_type"


class ImageRejected(ApiError):
    """An upload that is not an image we accept."""

    status = 422
    code = "image_rejected"


class QuotaExceeded(ApiError):
    """The per-user analysis quota is used up."""

    status = 429
    code = "quota_exceeded"


class TooManyAttempts(ApiError):
    """Login attempts past the account's or the address's limit: locked for the rest of the window."""

    status = 429
    code = "too_many_attempts"


class Unavailable(ApiError):
    """The service cannot take the work now; retry later."""

    status = 503
    code = "unavailable"


def error_response(status: int, code: str, message: str, headers: dict | None = None) -> Response:
    """The one JSON error body: {"error": {code, message}, "detail", "request_id"}."""
    g.error_code = code
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


def field_errors(error: Exception) -> str:
    """`field: problem` for each invalid field of a pydantic ValidationError (never the value sent)."""
    parts = []
    for item in getattr(error, "errors", lambda: [])():
        field = ".".join(str(part) for part in item.get("loc", ())) or "body"
        parts.append(f"{field}: {item.get('msg', 'invalid')}")
    return "; ".join(parts) or "The request is not valid."


def report_invalid_response(_req, _resp, error: Exception | None, _instance, _adapter) -> None:
    """spectree's hook after a view: a response that breaks its declared model is our bug, answered in our shape."""
    if error is not None:
        raise RuntimeError(f"response does not match its model: {field_errors(error)}")


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

    @app.errorhandler(sa_exc.DataError)
    def _data_error(exc: sa_exc.DataError) -> Response:
        # Last line: a value the boundary let through but PostgreSQL refuses is the request's fault.
        log.warning("database refused a value", extra={"error_type": type(exc.orig).__name__})
        return error_response(400, "invalid_value", "A value in the request cannot be stored.")

    @app.errorhandler(sa_exc.IntegrityError)
    def _integrity_error(exc: sa_exc.IntegrityError) -> Response:
        # A row this request relied on changed under it (a concurrent delete): ask to retry.
        log.warning("integrity error", extra={"error_type": type(exc.orig).__name__})
        return error_response(409, "conflict", "The resource changed while the request ran; please retry.")

    @app.errorhandler(orm_exc.ObjectDeletedError)
    @app.errorhandler(orm_exc.StaleDataError)
    def _deleted_meanwhile(exc: Exception) -> Response:
        # The row was removed by a concurrent request (a session or account deleted): it is gone.
        log.info("resource deleted during the request", extra={"error_type": type(exc).__name__})
        return error_response(404, "not_found", "Not found.")

    @app.errorhandler(sa_exc.OperationalError)
    @app.errorhandler(sa_exc.InterfaceError)
    @app.errorhandler(sa_exc.TimeoutError)
    def _database_unavailable(exc: Exception) -> Response:
        from .outage import watch

        watch.failed(app, exc)
        return error_response(
            503, "database_unavailable", DATABASE_UNAVAILABLE, {"Retry-After": str(DATABASE_RETRY_AFTER_SECONDS)}
        )

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> Response:
        log.exception("unhandled error", extra={"error_type": type(exc).__name__})
        return error_response(500, "internal_error", "An internal error occurred.")
