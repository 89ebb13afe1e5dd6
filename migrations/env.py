"""Alembic environment for Flask-Migrate, aware of pgvector's `vector` type."""

import logging
from logging.config import fileConfig

from alembic import context
from flask import current_app
from pgvector.sqlalchemy import Vector

config = context.config
if config.config_file_name:
    # Keep the app's own loggers alive when migrations run inside a process.
    fileConfig(config.config_file_name, disable_existing_loggers=False)
logger = logging.getLogger("alembic.env")

target_db = current_app.extensions["migrate"].db


def run_migrations_online() -> None:
    """Run migrations on the app's engine."""

    def process_revision_directives(_context, _revision, directives):
        if getattr(config.cmd_opts, "autogenerate", False) and directives[0].upgrade_ops.is_empty():
            directives[:] = []
            logger.info("No changes in schema detected.")

    conf_args = dict(current_app.extensions["migrate"].configure_args)
    conf_args.setdefault("process_revision_directives", process_revision_directives)
    with target_db.engine.connect() as connection:
        # Reflection must know `vector` to compare models with the database.
        connection.dialect.ischema_names["vector"] = Vector
        context.configure(connection=connection, target_metadata=target_db.metadata, **conf_args)
        with context.begin_transaction():
            context.run_migrations()


run_migrations_online()
