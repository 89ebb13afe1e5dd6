"""BCD backend: measures visual variation between a person's own capture sessions, with its trust."""

import os

from flask import Flask

from . import api
from .db import db, migrate
from .jobs.runner import JobRunner
from .store import files, keys
from .vision.embeddings import embedder
from .web import busy, cli, docs_page, errors, health, http, logging_setup, metrics
from .web.embedded_db import embedded_database_uri
from .web.extensions import limiter


def _load_config(app: Flask, config: object) -> None:
    from config import Config, ProductionConfig

    if config is None:
        config = ProductionConfig if os.environ.get("BCD_ENV") == "production" else Config
    if isinstance(config, dict):
        app.config.from_object(Config)
        app.config.update(config)
    else:
        app.config.from_object(config)
        if hasattr(config, "validate"):
            config.validate()
    if not app.config.get("SQLALCHEMY_DATABASE_URI"):
        app.config["SQLALCHEMY_DATABASE_URI"] = embedded_database_uri(app.config["EMBEDDED_PGDATA"])
        # The app looks after this server: an outage revives it (web/outage.py).
        app.config["EMBEDDED_PGDATA_IN_USE"] = app.config["EMBEDDED_PGDATA"]


def create_app(config: object = None) -> Flask:
    """Application factory: config, extensions, blueprints, job pool, CLI."""
    app = Flask(__name__, instance_relative_config=True, static_folder=None)
    _load_config(app, config)
    logging_setup.init_app(app)
    keys.init_app(app)
    files.init_app(app)
    db.init_app(app)
    migrate.init_app(app, db, directory=os.path.join(os.path.dirname(app.root_path), "migrations"))
    limiter.init_app(app)
    http.init_app(app)
    busy.init_app(app)
    errors.init_app(app)
    api.init_app(app)
    health.init_app(app)
    docs_page.init_app(app)
    metrics.init_app(app)
    embedder.configure(app.config["EMBEDDING_MODEL_PATH"], app.config["MODEL_THREADS"], app.config["MODEL_CACHE_DIR"])
    JobRunner().init_app(app)
    cli.init_app(app)
    return app
