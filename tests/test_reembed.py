"""`flask bcd reembed`: a model change re-computes stored sessions from kept images and keeps the old vectors."""

import pytest
from sqlalchemy import text

from bcd_app.db import db
from bcd_app.vision.embeddings import DEFAULT_MODEL_VERSION
from tests import photo_data
from tests.helpers import completed_session, data_of
from tests.test_analysis import analyse

OLD_VERSION = "older-model-v0"
VECTOR_TABLES = ("image_embeddings", "angle_embeddings", "session_embeddings")


def _count(sql: str, **params) -> int:
    return db.session.scalar(text(sql), params)


@pytest.mark.slow
def test_reembed_recomputes_in_the_job_pool_and_keeps_history(app, client, auth, photos):
    headers = auth.register()
    scenes = {"front": "astronaut", "left": "coffee", "right": "chelsea"}
    first = completed_session(client, headers, {a: photo_data.encode(photos[n]) for a, n in scenes.items()})
    analyse(client, headers, first)
    second = completed_session(
        client, headers, {a: photo_data.encode(photo_data.shift_and_light(photos[n])) for a, n in scenes.items()}
    )
    analyse(client, headers, second)
    with app.app_context():
        # As if both sessions had been analysed by an earlier model.
        for table in (*VECTOR_TABLES, "session_analysis"):
            db.session.execute(text(f"UPDATE {table} SET model_version = :old"), {"old": OLD_VERSION})
        db.session.commit()
        requests_before = _count("SELECT count(*) FROM analysis_requests")

    cli = app.test_cli_runner()
    dry = cli.invoke(args=["bcd", "reembed", "--dry-run"])
    assert dry.exit_code == 0 and dry.output.startswith("2 analysed sessions"), dry.output
    run = cli.invoke(args=["bcd", "reembed", "--wait", "--timeout", "120"])
    assert run.exit_code == 0, run.output
    assert "queued 2 sessions" in run.output and "pending 0, completed 2, failed 0" in run.output

    with app.app_context():
        for table in VECTOR_TABLES:
            old = _count(f"SELECT count(*) FROM {table} WHERE model_version = :v", v=OLD_VERSION)
            new = _count(f"SELECT count(*) FROM {table} WHERE model_version = :v", v=DEFAULT_MODEL_VERSION)
            assert old == new > 0, table
        assert _count("SELECT count(*) FROM session_analysis WHERE model_version = :v", v=DEFAULT_MODEL_VERSION) == 2
        assert _count("SELECT count(*) FROM analysis_requests") == requests_before  # no quota spent
        assert _count("SELECT count(*) FROM analysis_logs WHERE status = 'completed'") == 4
    result = data_of(client.get(f"/api/sessions/{second}/analysis", headers=headers))
    assert result["baseline_used"]["session_id"] == first
    assert result["model"]["version"] == DEFAULT_MODEL_VERSION
    assert all(a["comparisons"]["baseline"]["available"] for a in result["session_analysis"]["per_angle"])

    again = cli.invoke(args=["bcd", "reembed"])
    assert again.exit_code == 0 and "queued 0 sessions" in again.output
