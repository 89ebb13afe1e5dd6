"""Per-request plumbing: request ids, security headers, CORS, access log."""

import logging
import re
import time
import uuid

from flask import Flask, Response, g, request
from flask.json.provider import DefaultJSONProvider
from werkzeug.middleware.proxy_fix import ProxyFix

from . import metrics
from .extensions import cors

log = logging.getLogger(__name__)
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
# A year, as HSTS preload lists ask; subdomains too (the API's host serves nothing over plain http).
HSTS = "max-age=31536000; includeSubDomains"


class BoundedJSONProvider(DefaultJSONProvider):
    """Flask's JSON, where a body nested too deep to parse is invalid JSON (a 400), not a RecursionError."""

    def loads(self, s: str | bytes, **kwargs: object) -> object:
        """Parse JSON; nesting past Python's recursion limit is a ValueError like any other bad JSON."""
        try:
            return super().loads(s, **kwargs)
        except RecursionError:
            raise ValueError("JSON nested too deeply") from None


def _start() -> None:
    supplied = request.headers.get("X-Request-ID", "")
    g.request_id = supplied if _REQUEST_ID.match(supplied) else uuid.uuid4().hex
    g.started = time.perf_counter()


def _finish(response: Response) -> Response:
    response.headers["X-Request-ID"] = g.get("request_id", "")
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Frame-Options"] = "DENY"
    if request.is_secure:
        # Over https (directly, or as the proxy says), the browser is told to never come back over plain http.
        response.headers["Strict-Transport-Security"] = HSTS
    if request.path.startswith("/api/"):
        # CORS headers depend on the Origin, allowed or not: shared caches must key on it.
        response.vary.add("Origin")
        if "Cache-Control" not in response.headers:
            # Health data: never kept by a browser or a proxy.
            response.headers["Cache-Control"] = "no-store"
    if response.mimetype == "application/json":
        response.headers.setdefault("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'")
    elapsed = time.perf_counter() - g.get("started", time.perf_counter())
    # Path templates, not concrete URLs: ids and signed tokens stay out of the access log and the metrics.
    route = request.url_rule.rule if request.url_rule else "unmatched"
    metrics.observe_request(request.method, route, response.status_code, elapsed)
    metrics.observe_rejection(g.get("error_code"))
    log.info(
        "request",
        extra={
            "method": request.method,
            "route": route,
            "status": response.status_code,
            "ms": round(elapsed * 1000, 1),
        },
    )
    return response


def init_app(app: Flask) -> None:
    """Install the JSON provider, the proxy fix, the request hooks and CORS for the configured origins only."""
    app.json = BoundedJSONProvider(app)
    if app.config["PROXY_FIX_X_FOR"]:
        # Behind nginx the peer is nginx: the client's address (login limits, /metrics) is in X-Forwarded-For.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=app.config["PROXY_FIX_X_FOR"], x_proto=1)
    app.before_request(_start)
    app.after_request(_finish)
    cors.init_app(
        app,
        # Exact, anchored patterns: flask-cors would read a plain string with regex characters
        # as an unanchored-at-the-end regex ("app.example.com.evil.net" would pass).
        resources={r"/api/*": {"origins": [re.compile(re.escape(o) + r"\Z") for o in app.config["ALLOWED_ORIGINS"]]}},
        supports_credentials=False,
        allow_headers=["Authorization", "Content-Type", "X-Request-ID"],
        expose_headers=["X-Request-ID", "Retry-After"],
        max_age=600,
        vary_header=True,
    )
