"""Liveness and readiness probes, and the OpenAPI description of the API."""

from pathlib import Path

from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import Blueprint, Flask, current_app, jsonify, send_file
from sqlalchemy import text

from .extensions import db

bp = Blueprint("health", __name__)
OPENAPI = Path(__file__).with_name("openapi.json")


@bp.get("/health")
def health():
    """Liveness: the process answers."""
    return jsonify({"status": "ok"})


@bp.get("/openapi.json")
def openapi():
    """The OpenAPI 3 description every route is in (tests/test_api_docs.py keeps it complete)."""
    return send_file(OPENAPI, mimetype="application/json", max_age=0)


def _migrations_at_head() -> bool:
    migrate = current_app.extensions["migrate"]
    heads = set(ScriptDirectory.from_config(migrate.migrate.get_config(migrate.directory)).get_heads())
    with db.engine.connect() as connection:
        return set(MigrationContext.configure(connection).get_current_heads()) == heads


@bp.get("/ready")
def ready():
    """Readiness: database, vector extension, migrations at head, model loaded, job pool alive."""
    from .services.embeddings import embedder

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
    checks["model_loadable"] = _model_ready(embedder)
    ready_now = all(checks.values())
    return jsonify({"status": "ready" if ready_now else "not_ready", "checks": checks}), 200 if ready_now else 503


def _model_ready(embedder) -> bool:
    try:
        return embedder.info().dim > 0
    except Exception:  # noqa: BLE001 - a model that fails to load is simply not ready
        return False


def init_app(app: Flask) -> None:
    """Register the probes."""
    app.register_blueprint(bp)
