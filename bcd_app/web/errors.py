"""The one place that turns errors into JSON responses: typed API errors, HTTP errors, database failures."""

import logging

from flask import Flask, Response, g, jsonify
from sqlalchemy import exc as sa_exc
from sqlalchemy.orm import exc as orm_exc
from werkzeug.exceptions import HTTPException

from ..db import contended
from ..errors import ApiError
from . import outage

log = logging.getLogger(__name__)
DATABASE_UNAVAILABLE = "The service is briefly unavailable; please try again shortly."
DATABASE_RETRY_AFTER_SECONDS = 5
CONTENDED = "The request met another one changing the same data; please retry."


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
        if contended(exc):
            # The database is there; another transaction was in the way (a deadlock): the same request can go again.
            log.warning("database contention", extra={"error_type": type(exc.orig).__name__})
            return error_response(409, "conflict", CONTENDED, {"Retry-After": "1"})
        outage.watch.failed(app, exc)
        return error_response(
            503, "database_unavailable", DATABASE_UNAVAILABLE, {"Retry-After": str(DATABASE_RETRY_AFTER_SECONDS)}
        )

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> Response:
        log.exception("unhandled error", extra={"error_type": type(exc).__name__})
        return error_response(500, "internal_error", "An internal error occurred.")
