"""Liveness and readiness probes, and the OpenAPI description of the API."""

from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import Blueprint, Flask, current_app, jsonify
from spectree import Response
from sqlalchemy import text

from ..db import db
from ..schemas.resources import Health, Readiness
from ..vision.embeddings import embedder
from .extensions import spec

bp = Blueprint("health", __name__)
TAGS = ("operations",)


@bp.get("/health")
@spec.validate(resp=Response(HTTP_200=Health), tags=TAGS, security={})
def health():
    """Liveness: the process answers."""
    return Health(status="ok")


@bp.get("/openapi.json")
@spec.validate(resp=Response("HTTP_200"), tags=TAGS, security={})
def openapi():
    """The OpenAPI 3 description, generated from the models every route declares."""
    return jsonify(spec.spec)


def _script_heads(app: Flask) -> set[str]:
    """The migrations' heads as this code ships them, read once per process (parsing every migration file on each
    probe cost ~100 ms of CPU under the interpreter's lock)."""
    heads = app.extensions.get("migration_heads")
    if heads is None:
        migrate = app.extensions["migrate"]
        heads = set(ScriptDirectory.from_config(migrate.migrate.get_config(migrate.directory)).get_heads())
        app.extensions["migration_heads"] = heads
    return heads


def _migrations_at_head() -> bool:
    heads = _script_heads(current_app._get_current_object())
    with db.engine.connect() as connection:
        return set(MigrationContext.configure(connection).get_current_heads()) == heads


@bp.get("/ready")
@spec.validate(resp=Response(HTTP_200=Readiness, HTTP_503=Readiness), tags=TAGS, security={})
def ready():
    """Readiness: database, vector extension, migrations at head, model loaded, job pool alive."""
    checks = {"database": False, "vector_extension": False, "migrations_at_head": False}
    try:
        db.session.execute(text("SELECT 1"))
        checks["database"] = True
        checks["vector_extension"] = bool(
            db.session.scalar(text("SELECT 1 FROM pg_extension WHERE extname = 'vector'"))
        )
        checks["migrations_at_head"] = _migrations_at_head()
    except Exception:  # noqa: BLE001 - any failure here means not ready
        db.session.rollback()
    runner = current_app.extensions["job_runner"]
    checks["job_pool"] = runner.alive or not current_app.config["JOBS_AUTOSTART"]
    checks["model_loadable"] = _model_ready()
    failing = next((name for name, passed in checks.items() if not passed), None)
    body = Readiness(status="not_ready" if failing else "ready", checks=checks, reason=failing)
    return body, 503 if failing else 200


def _model_ready() -> bool:
    try:
        return embedder.info().dim > 0
    except Exception:  # noqa: BLE001 - a model that fails to load is simply not ready
        return False


def init_app(app: Flask) -> None:
    """Register the probes."""
    app.register_blueprint(bp)
