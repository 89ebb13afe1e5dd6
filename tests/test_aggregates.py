"""The lifetime layer from running sums equals a full recomputation, through additions, deletions,
re-analyses and model versions."""

import uuid

import numpy as np
import pytest
from pgvector import Vector
from psycopg.adapt import PyFormat
from sqlalchemy import select, text

from bcd_app.constants import EMBEDDING_DIM
from bcd_app.db import db
from bcd_app.models import AngleAggregate, AngleEmbedding, CaptureSession
from bcd_app.store import aggregates, vectors
from tests import photo_data
from tests.helpers import completed_session, data_of
from tests.photo_data import OTHER_SCENES, SCENES

ALTERNATING = (SCENES, OTHER_SCENES)
TOLERANCE = 1e-6


def _sums_match_the_vectors(user_id: uuid.UUID) -> int:
    """Compare every running sum with the vectors it stands for; returns how many were checked."""
    checked = 0
    for row in db.session.scalars(select(AngleAggregate).where(AngleAggregate.user_id == user_id)):
        vectors = db.session.scalars(
            select(AngleEmbedding.embedding).where(
                AngleEmbedding.user_id == user_id,
                AngleEmbedding.angle == row.angle,
                AngleEmbedding.model_version == row.model_version,
            )
        ).all()
        expected = np.mean(np.asarray(vectors, np.float64), axis=0)
        assert row.sessions == len(vectors)
        assert np.abs(np.frombuffer(row.total) / row.sessions - expected).max() < TOLERANCE
        checked += 1
    return checked


def _scanned_lifetime(session_id: str) -> dict:
    session = db.session.get(CaptureSession, uuid.UUID(session_id))
    ref = vectors.SessionRef(session.id, session.user_id, session.created_at)
    version = db.session.scalar(select(AngleEmbedding.model_version).where(AngleEmbedding.session_id == session.id))
    return {a: d["lifetime"] for a, d in vectors.layer_distances(ref, None, version).items()}


@pytest.mark.slow
def test_running_sums_equal_a_full_recomputation(app, client, auth, photos):
    headers = auth.register()
    rng = np.random.default_rng(3)
    ids = []
    for i in range(5):
        pictures = {a: photo_data.encode(photo_data.recapture(photos[n], rng)) for a, n in ALTERNATING[i % 2].items()}
        ids.append(completed_session(client, headers, pictures))
        result = data_of(client.post(f"/api/analyze-session/{ids[-1]}", headers=headers))
        if i:
            with app.app_context():
                scanned = _scanned_lifetime(ids[-1])
            for angle in result["session_analysis"]["per_angle"]:
                from_sums = angle["comparisons"]["lifetime"]["distance"]
                assert abs(from_sums - scanned[angle["angle_type"]]) < 1e-4  # stored rounded to 4 places
    user_id = uuid.UUID(data_of(client.get("/api/auth/me", headers=headers))["id"])
    with app.app_context():
        assert _sums_match_the_vectors(user_id) == 3

    assert client.delete(f"/api/delete-session/{ids[1]}", headers=headers).status_code == 200
    forced = client.post(f"/api/analyze-session/{ids[0]}?force=true", headers=headers)  # an older session again
    assert forced.status_code == 200
    with app.app_context():
        assert _sums_match_the_vectors(user_id) == 3
        newest = db.session.get(CaptureSession, uuid.UUID(ids[-1]))
        means = aggregates.earlier_means(
            user_id, "efficientnet-lite0-imagenet-v1", {"front", "left"}, newest.created_at
        )
        assert means is None  # the newest session itself is counted: not 'every earlier session' for it

        # Another model version keeps sums of its own (a re-embedding), and deleting leaves both exact.
        vector = np.asarray(photo_data.noise(np.zeros((1, 1280), np.uint8), 1.0)[0], np.float64) + 0.5
        aggregates.add(user_id, "other-model-v2", {"front": vector / np.linalg.norm(vector)}, newest.created_at)
        db.session.execute(
            text(
                "INSERT INTO angle_embeddings (id, session_id, user_id, angle, model_name, model_version, dim, "
                "embedding, session_created_at, created_at) VALUES (gen_random_uuid(), :s, :u, 'front', 'm', "
                "'other-model-v2', 1280, :v, :t, now())"
            ),
            {
                "s": newest.id,
                "u": user_id,
                "v": str((vector / np.linalg.norm(vector)).astype(np.float32).tolist()),
                "t": newest.created_at,
            },
        )
        db.session.commit()
        assert _sums_match_the_vectors(user_id) == 4
    assert client.delete(f"/api/delete-session/{ids[-1]}", headers=headers).status_code == 200
    with app.app_context():
        assert _sums_match_the_vectors(user_id) == 3
        assert (
            db.session.scalar(text("SELECT count(*) FROM angle_aggregates WHERE model_version = 'other-model-v2'")) == 0
        )


def test_vectors_travel_in_pgvectors_binary_form_and_come_back_exactly(app, client, auth, photos):
    headers = auth.register()
    session_id = completed_session(
        client, headers, {angle: photo_data.encode(photos[name]) for angle, name in SCENES.items()}
    )
    assert client.post(f"/api/analyze-session/{session_id}", headers=headers).status_code == 200
    written = np.random.default_rng(3).standard_normal(EMBEDDING_DIM).astype(np.float32)
    with app.app_context():
        connection = db.session.connection().connection.driver_connection
        oid = db.session.scalar(text("SELECT 'vector'::regtype::oid"))
        assert connection.adapters.get_dumper(Vector, PyFormat.AUTO).oid == oid
        row = db.session.scalar(select(AngleEmbedding).where(AngleEmbedding.session_id == uuid.UUID(session_id)))
        row.embedding = written
        db.session.commit()
        read = db.session.scalar(select(AngleEmbedding.embedding).where(AngleEmbedding.id == row.id))
        assert np.array_equal(np.asarray(read, np.float32), written)
        # The same value as the server reads it from text.
        assert db.session.scalar(
            text("SELECT embedding = CAST(:v AS vector) FROM angle_embeddings WHERE id = :i"),
            {"v": "[" + ",".join(map(repr, written.tolist())) + "]", "i": row.id},
        )
        db.session.rollback()
