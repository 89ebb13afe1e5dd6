"""Migrations: empty -> head, JSON embeddings copied into vectors, no drift, one head."""

import json

import numpy as np
from flask_migrate import downgrade, upgrade
from sqlalchemy import text

from bcd_app import create_app
from bcd_app.db import db
from tests.conftest import database_uri, make_config


def test_json_embeddings_become_equal_vectors(pg_server, upload_dir):
    app = create_app(make_config(database_uri(pg_server, "bcd_migration_test"), upload_dir))
    rng = np.random.default_rng(7)
    vectors = rng.normal(size=(3, 1280)).astype(np.float32)
    with app.app_context():
        upgrade(revision="0001_initial")
        db.session.execute(
            text(
                "INSERT INTO users (id, email, password_hash, created_at) VALUES (gen_random_uuid(), 'm@x.io', 'h', now())"
            )
        )
        db.session.execute(
            text(
                "INSERT INTO sessions (id, user_id, session_type, status, is_baseline, created_at) "
                "SELECT gen_random_uuid(), id, 'full', 'completed', false, now() FROM users"
            )
        )
        for i, angle in enumerate(("front", "left", "right")):
            db.session.execute(
                text(
                    "INSERT INTO angle_embeddings (id, session_id, user_id, angle, embedding, created_at) "
                    "SELECT gen_random_uuid(), s.id, s.user_id, :angle, CAST(:vec AS json), now() FROM sessions s"
                ),
                {"angle": angle, "vec": json.dumps(vectors[i].tolist())},
            )
        db.session.commit()

        upgrade()
        rows = db.session.execute(text("SELECT angle, embedding::text, dim FROM angle_embeddings")).all()
        assert len(rows) == 3
        for angle, embedding, dim in rows:
            stored = np.array(json.loads(embedding), dtype=np.float32)
            expected = vectors[("front", "left", "right").index(angle)]
            assert dim == 1280 and np.array_equal(stored, expected)
        column_type = db.session.scalar(
            text(
                "SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = 'angle_embeddings'::regclass AND attname = 'embedding'"
            )
        )
        assert column_type == "vector(1280)"
        db.session.commit()  # release our read locks before the migration alters the table

        downgrade(revision="0001_initial")
        restored = db.session.execute(text("SELECT angle, embedding FROM angle_embeddings")).all()
        for angle, embedding in restored:
            expected = vectors[("front", "left", "right").index(angle)]
            assert np.array_equal(np.array(embedding, dtype=np.float32), expected)
        db.session.commit()
        upgrade()
        db.session.remove()
        db.engine.dispose()


def test_models_and_migrations_do_not_drift(app):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from pgvector.sqlalchemy import Vector

    with app.app_context(), db.engine.connect() as connection:
        connection.dialect.ischema_names["vector"] = Vector
        diff = compare_metadata(MigrationContext.configure(connection), db.metadata)
    assert diff == []


def test_single_head():
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", "migrations")
    assert len(ScriptDirectory.from_config(config).get_heads()) == 1
