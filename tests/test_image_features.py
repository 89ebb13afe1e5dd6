"""A photo's model output and its comparison with the baseline are computed in the background as it arrives,
kept with the image, and give the analysis exactly what computing them then gives; a photo removed before they
run leaves nothing behind, and one whose session is being analysed is left to that analysis."""

import threading
import uuid
from collections import Counter

import numpy as np
import pytest
from sqlalchemy import text

from bcd_app.constants import EMBEDDING_DIM, MIRROR_PAIR, JobStatus
from bcd_app.db import db
from bcd_app.models import AnalysisJob
from bcd_app.services import analysis, features, regions
from bcd_app.services.analysis import AnalysisSettings, analyze_session
from bcd_app.store import locks
from bcd_app.store.keys import SEALING_BYTES
from bcd_app.vision import registration
from bcd_app.vision.embeddings import DEFAULT_MODEL_VERSION
from tests import photo_data
from tests.helpers import completed_session, create_session, data_of, upload, uploads_settled, wait_until
from tests.photo_data import SCENES
from tests.test_analysis import _session_photos, _without_links, analyse

# EfficientNet-Lite0's last feature map at 224 px pooled into 3 x 3 cells: 9 x 1280 channels, half precision,
# sealed (the header, nonce and tag of store/keys.py).
CELL_VECTOR_BYTES = 9 * EMBEDDING_DIM * 2 + SEALING_BYTES


def _kept(app, session_id: str) -> dict[str, bool]:
    """angle -> whether the session's kept row of it has a mirrored vector."""
    with app.app_context():
        rows = db.session.execute(
            text(
                "SELECT i.angle, e.mirrored_embedding IS NOT NULL AS mirrored "
                "FROM image_embeddings e JOIN images i ON i.id = e.image_id "
                "WHERE i.session_id = :s AND e.model_version = :v"
            ),
            {"s": session_id, "v": DEFAULT_MODEL_VERSION},
        ).all()
        db.session.remove()
    return {row.angle: row.mirrored for row in rows}


def _compared(app, session_id: str) -> int:
    """How many of the session's photos have a kept comparison with the baseline."""
    with app.app_context():
        count = db.session.scalar(
            text("SELECT count(*) FROM photo_comparisons c JOIN images i ON i.id = c.image_id WHERE i.session_id = :s"),
            {"s": session_id},
        )
        db.session.remove()
    return count


def _forget(app, session_id: str) -> None:
    with app.app_context():
        for table in ("image_embeddings", "photo_comparisons"):
            db.session.execute(
                text(f"DELETE FROM {table} USING images WHERE images.id = image_id AND images.session_id = :s"),
                {"s": session_id},
            )
        db.session.commit()


def _comparable(result: dict) -> dict:
    return {k: v for k, v in _without_links(result).items() if k != "processing_time_ms"}


@pytest.mark.slow
def test_output_kept_at_upload_gives_the_same_analysis_as_computed_then(app, client, auth, photos):
    headers = auth.register()
    baseline = completed_session(client, headers, _session_photos(photos))
    analyse(client, headers, baseline)
    today = completed_session(client, headers, _session_photos(photos, photo_data.shift_and_light))
    kept = wait_until(lambda: len(_kept(app, today)) == 2 and _kept(app, today), what="kept outputs")
    wait_until(lambda: _compared(app, today) == len(SCENES), what="kept comparisons with the baseline")
    # The baseline's own photos are not compared with themselves.
    assert _compared(app, baseline) == 0
    # Only what the symmetry score reads: the left view's vector, the right view's mirrored vector.
    assert kept == {"left": False, "right": True}
    from_upload = analyse(client, headers, today)
    # Read once by the analysis, then dropped.
    assert _compared(app, today) == 0

    _forget(app, today)
    response = client.post(f"/api/analyze-session/{today}?force=true&async_process=false", headers=headers)
    computed_then = data_of(response)
    assert computed_then["from_cache"] is False
    assert _comparable(from_upload) == _comparable(computed_then)
    assert from_upload["scores"]["symmetry_score"] is not None
    assert any(a["regions"] for a in from_upload["session_analysis"]["per_angle"])
    # The analysis kept what it computed: a re-run reads it.
    assert _kept(app, today) == kept


def test_a_photo_removed_before_its_turn_leaves_nothing(app, client, auth, jpeg, upload_dir):
    headers = auth.register()
    session_id = create_session(client, headers)
    image_id = data_of(upload(client, headers, session_id, jpeg("astronaut")))["id"]
    assert client.delete(f"/api/sessions/{session_id}/images/{image_id}", headers=headers).status_code == 200
    with app.app_context():
        # Whether the background already ran or not, computing it now finds no image and keeps nothing.
        assert features.precompute(image_id) is False
        assert regions.precompare(image_id) is False
        assert (
            db.session.scalar(text("SELECT count(*) FROM image_embeddings WHERE image_id = :i"), {"i": image_id}) == 0
        )


def test_a_photo_of_a_session_being_analysed_is_left_to_that_analysis(app, client, auth, jpeg, upload_dir):
    headers = auth.register()
    session_id = create_session(client, headers)
    image_id = uuid.UUID(data_of(upload(client, headers, session_id, jpeg("astronaut"), angle="left"))["id"])
    wait_until(lambda: _kept(app, session_id), what="the background output")
    _forget(app, session_id)
    count = text("SELECT count(*) FROM image_embeddings WHERE image_id = :i")
    with app.app_context():
        user_id = db.session.scalar(text("SELECT user_id FROM sessions WHERE id = :s"), {"s": session_id})
        job = AnalysisJob(session_id=uuid.UUID(session_id), user_id=user_id, status=JobStatus.RUNNING)
        db.session.add(job)
        db.session.commit()
        # Its analysis computes what it misses: the background would do the same work a second time.
        assert features.precompute(image_id) is False
        assert db.session.scalar(count, {"i": image_id}) == 0
        job.status = JobStatus.COMPLETED
        db.session.commit()
        assert features.precompute(image_id) is True
        assert db.session.scalar(count, {"i": image_id}) == 1


def test_a_photo_is_compared_with_the_baseline_only_before_its_analysis_begins(app, client, auth, photos, jpeg):
    headers = auth.register()
    analyse(client, headers, completed_session(client, headers, _session_photos(photos)))
    session_id = create_session(client, headers)
    image_id = uuid.UUID(data_of(upload(client, headers, session_id, jpeg("astronaut")))["id"])
    wait_until(lambda: _compared(app, session_id) == 1, what="the background comparison")
    uploads_settled(app)
    # From here the test plays the queue: the pool would claim the queued job it writes.
    app.extensions["job_runner"].shutdown()
    _forget(app, session_id)
    with app.app_context():
        user_id = db.session.scalar(text("SELECT user_id FROM sessions WHERE id = :s"), {"s": session_id})
        job = AnalysisJob(session_id=uuid.UUID(session_id), user_id=user_id, status=JobStatus.RUNNING)
        db.session.add(job)
        db.session.commit()
        # Begun or done, the analysis has read (or will compute) what it needs: an outcome kept now is never read.
        for status in (JobStatus.RUNNING, JobStatus.COMPLETED):
            job.status = status
            db.session.commit()
            assert regions.precompare(image_id) is False
        job.status = JobStatus.QUEUED
        db.session.commit()
        assert regions.precompare(image_id) is True
    assert _compared(app, session_id) == 1


def test_a_photos_comparison_takes_up_the_registration_of_its_upload_onto_the_same_baseline_photo(
    app, client, auth, photos, jpeg, monkeypatch
):
    headers = auth.register()
    analyse(client, headers, completed_session(client, headers, _session_photos(photos)))
    # The baseline's own photos' background work is over before the spy is in place.
    uploads_settled(app)
    handed: list = []
    precompare = regions.precompare
    monkeypatch.setattr(
        regions, "precompare", lambda image, registered: handed.append(registered) or precompare(image, registered)
    )
    session_id = create_session(client, headers)
    image_id = uuid.UUID(data_of(upload(client, headers, session_id, jpeg("astronaut")))["id"])
    wait_until(lambda: _compared(app, session_id) == 1, what="the background comparison")
    # The upload's registration reached the background comparison.
    assert len(handed) == 1 and handed[0].alignment.ok
    uploads_settled(app)
    app.extensions["job_runner"].shutdown()
    marked = registration.Alignment(True, "as-posed", 0, None, np.eye(3))

    def compared_as(reference_id: uuid.UUID) -> str:
        _forget(app, session_id)
        with app.app_context():
            assert regions.precompare(image_id, regions.Registered(marked, reference_id)) is True
            method = db.session.scalar(
                text("SELECT alignment->>'method' FROM photo_comparisons WHERE image_id = :i"), {"i": image_id}
            )
            db.session.remove()
        return method

    with app.app_context():
        user_id = db.session.scalar(text("SELECT user_id FROM sessions WHERE id = :s"), {"s": session_id})
        # What the upload was posed against: the baseline's photo of the angle.
        reference_id = regions.baseline_reference(user_id, uuid.UUID(session_id), "front").image_id
        db.session.remove()
    assert handed[0].reference_id == reference_id
    assert compared_as(reference_id) == "as-posed"
    # Registered onto another photo (a baseline since replaced): registered again.
    assert compared_as(uuid.uuid4()) != "as-posed"


def test_a_photos_work_lock_is_held_by_one_process_and_awaited_with_a_timeout(app):
    image_id = uuid.uuid4()
    with app.app_context():
        with locks.photo_work(image_id) as mine:
            assert mine
            # Another process (another connection) finds it held and leaves the photo alone.
            with locks.photo_work(image_id) as theirs:
                assert not theirs
            assert locks.await_photo_work([image_id, uuid.uuid4()], timeout=0.05) == [image_id]
        assert locks.await_photo_work([image_id], timeout=5) == []
        # The wait took nothing it keeps: the work may begin again at once.
        with locks.photo_work(image_id) as again:
            assert again
        db.session.rollback()


def test_work_under_way_when_the_analysis_begins_is_waited_for_never_done_twice(app, client, auth, photos, monkeypatch):
    headers = auth.register()
    analyse(client, headers, completed_session(client, headers, _session_photos(photos)))
    session_id = completed_session(client, headers, _session_photos(photos))
    uploads_settled(app)
    app.extensions["job_runner"].shutdown()
    _forget(app, session_id)
    with app.app_context():
        in_flight = db.session.scalar(
            text("SELECT id FROM images WHERE session_id = :s AND angle = 'right'"), {"s": session_id}
        )
        db.session.remove()
    # Real work, counted: each photo's model output and each angle's comparison with the baseline.
    done = Counter()
    for module, name in ((analysis, "compute"), (features, "compute"), (regions, "_compared")):
        real = getattr(module, name)
        monkeypatch.setattr(module, name, lambda *args, _real=real, _name=name: done.update([_name]) or _real(*args))
    waiting, locked, finished = threading.Event(), threading.Event(), threading.Event()
    real_wait = locks.await_photo_work
    monkeypatch.setattr(locks, "await_photo_work", lambda *args: waiting.set() or real_wait(*args))

    failed = []

    def background() -> None:
        """The photo's background work, begun before the analysis (the runner's lock, then its two steps)."""
        try:
            with app.app_context(), locks.photo_work(in_flight) as mine:
                locked.set()
                # Until the analysis waits for it (or, were it not to wait, has done the photo's work itself).
                wait_until(lambda: waiting.is_set() or finished.is_set(), what="the analysis under way")
                assert mine
                done_here = features.precompute(in_flight) and regions.precompare(in_flight)
                assert done_here, "the analysis did the work under way itself"
        except Exception as exc:  # reported by the test's own thread below
            failed.append(exc)
            locked.set()

    worker = threading.Thread(target=background)
    worker.start()
    wait_until(locked.is_set, what="the background work under way")
    with app.app_context():
        result = analyze_session(uuid.UUID(session_id), AnalysisSettings())
    finished.set()
    worker.join(timeout=60)
    assert not failed and not worker.is_alive()
    # The outputs as taken (left, right) computed once, every angle compared once: the analysis took the in-flight
    # photo's.
    assert done["compute"] == len(MIRROR_PAIR)
    per_angle = result.session_analysis.per_angle
    assert done["_compared"] == len(per_angle)
    assert all(angle.regions for angle in per_angle)
