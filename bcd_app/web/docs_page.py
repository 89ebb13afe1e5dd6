"""Interactive API documentation: Swagger UI over the generated OpenAPI description, its assets served from
the flask-openapi3-swagger wheel (no CDN: production may be offline, and the CSP allows only this origin)."""

import importlib.resources
from pathlib import Path

from flask import Blueprint, Flask, Response, redirect, send_from_directory
from spectree import Response as Responses

from .extensions import spec

bp = Blueprint("docs", __name__)
TAGS = ("operations",)
PAGE_DIR = Path(__file__).with_name("docs_assets")
SWAGGER_DIR = Path(str(importlib.resources.files("flask_openapi3_swagger") / "templates" / "swagger"))
# Swagger UI sets inline style attributes; its scripts and styles come from this origin only.
PAGE_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "font-src 'self' data:; connect-src 'self'; frame-ancestors 'none'"
)


def _file(folder: Path, name: str, **options: object) -> Response:
    response = send_from_directory(folder, name, **options)
    # spectree reads the body to check it against the route's (absent) model; small static files.
    response.direct_passthrough = False
    return response


def _page_file(name: str, mimetype: str) -> Response:
    response = _file(PAGE_DIR, name, mimetype=mimetype, max_age=0)
    response.headers["Content-Security-Policy"] = PAGE_CSP
    return response


@bp.get("/")
@spec.validate(resp=Responses("HTTP_302"), tags=TAGS, security={})
def index():
    """A person opening the service is sent to the documentation."""
    return redirect("/docs", code=302)


@bp.get("/docs")
@spec.validate(resp=Responses("HTTP_200"), tags=TAGS, security={})
def docs():
    """Swagger UI: every route, its models and a form to try it."""
    return _page_file("index.html", "text/html")


@bp.get("/docs/init.js")
@spec.validate(resp=Responses("HTTP_200"), tags=TAGS, security={})
def docs_init():
    """The page's start-up script."""
    return _page_file("init.js", "text/javascript")


@bp.get("/docs/assets/<path:filename>")
@spec.validate(resp=Responses("HTTP_200", "HTTP_404"), tags=TAGS, security={})
def docs_asset(filename: str):
    """Swagger UI's scripts, styles and icon, from its wheel (send_from_directory refuses paths outside it)."""
    return _file(SWAGGER_DIR, filename, max_age=3600)


def init_app(app: Flask) -> None:
    """Register the documentation pages."""
    app.register_blueprint(bp)
