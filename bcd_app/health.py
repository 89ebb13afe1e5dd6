"""Liveness and readiness probes."""

from flask import Blueprint, Flask, jsonify
from sqlalchemy import text

from .extensions import db

bp = Blueprint("health", __name__)


@bp.get("/health")
def health():
    """Liveness: the process answers."""
    return jsonify({"status": "ok"})


@bp.get("/ready")
def ready():
    """Readiness: database reachable and the vector extension present."""
    checks = {}
    try:
        db.session.execute(text("SELECT 1"))
        checks["database"] = True
        checks["vector_extension"] = bool(
            db.session.scalar(text("SELECT 1 FROM pg_extension WHERE extname = 'vector'"))
        )
    except Exception:  # noqa: BLE001 - any failure means not ready
        db.session.rollback()
        checks.setdefault("database", False)
        checks.setdefault("vector_extension", False)
    ready_now = all(checks.values())
    return jsonify({"status": "ready" if ready_now else "not_ready", "checks": checks}), 200 if ready_now else 503


def init_app(app: Flask) -> None:
    """Register the probes."""
    app.register_blueprint(bp)
