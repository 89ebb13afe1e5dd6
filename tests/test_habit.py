"""Keeping the habit and recording consent: due dates, the calendar feed, the consent ledger, the client's flow
(analyse an open session in one call) and metrics that exist from the first scrape."""

import io
import json
import subprocess
import sys
import zipfile
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar
from sqlalchemy import text

from bcd_app.db import db
from bcd_app.habit.schedule import Plan, next_due, upcoming
from bcd_app.services import consents
from tests.helpers import create_session, data_of, finished_at, upload
from tests.photo_data import SCENES

# Words a lock screen must never show of this app.
HEALTH_WORDS = ("breast", "chest", "health", "cancer", "exam", "lump", "medical", "clinic", "body", "skin", "risk")


def _at(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_next_quick_across_the_end_of_summer_time():
    """Berlin leaves summer time on 25 Oct 2026: a week after a session at 10:00 CEST, 09:00 is +01:00."""
    plan = Plan(7, 30, None, "Europe/Berlin", time(9, 0))
    due = next_due(plan, _at(2026, 10, 20, 8), _at(2026, 10, 20, 8), now=_at(2026, 10, 22, 12))
    assert due.next_quick.isoformat() == "2026-10-27T09:00:00+01:00"
    assert due.next_full.isoformat() == "2026-11-19T09:00:00+01:00"
    assert not due.overdue
    # New York springs forward at 02:00 on 8 Mar 2026: a reminder at 02:30 that day is 03:30 EDT.
    spring = Plan(7, 30, None, "America/New_York", time(2, 30))
    assert next_due(spring, _at(2026, 3, 1, 12), _at(2026, 3, 1, 12), _at(2026, 3, 2)).next_quick.isoformat() == (
        "2026-03-08T03:30:00-04:00"
    )


def test_month_end_and_a_cycle_day_that_february_lacks():
    last = _at(2026, 1, 31, 15)
    plain = next_due(Plan(7, 30, None, "UTC", time(9, 0)), last, last, now=_at(2026, 2, 1))
    assert (plain.next_quick.date().isoformat(), plain.next_full.date().isoformat()) == ("2026-02-07", "2026-03-02")
    anchored = next_due(Plan(7, 30, 31, "UTC", time(9, 0)), last, last, now=_at(2026, 2, 1))
    assert anchored.next_full.date().isoformat() == "2026-02-28"
    # In the person's zone: 23:30 on 31 Jan in UTC is already 1 Feb in Tokyo.
    tokyo_last = _at(2026, 1, 31, 23, 30)
    tokyo = next_due(Plan(7, 30, None, "Asia/Tokyo", time(9, 0)), tokyo_last, tokyo_last, _at(2026, 2, 2))
    assert tokyo.next_quick.isoformat() == "2026-02-08T09:00:00+09:00"
    assert tokyo.next_full.date().isoformat() == "2026-03-03" and not tokyo.overdue


def test_overdue_and_the_upcoming_check_ins():
    plan = Plan(7, 30, None, "UTC", time(9, 0))
    due = next_due(plan, _at(2026, 9, 1, 9), _at(2026, 9, 1, 9), now=_at(2026, 9, 20))
    assert due.overdue and due.next_quick.date().isoformat() == "2026-09-08"
    events = upcoming(plan, _at(2026, 9, 1, 9), _at(2026, 9, 1, 9), _at(2026, 9, 20), 6)
    # The missed one is shown today, the rest follow from it; a full check-in is also the quick one.
    assert [(kind, when.date().isoformat()) for kind, when in events] == [
        ("quick", "2026-09-20"),
        ("quick", "2026-09-27"),
        ("full", "2026-10-01"),
        ("quick", "2026-10-08"),
        ("quick", "2026-10-15"),
        ("quick", "2026-10-22"),
    ]


def test_schedule_a_full_session_resets_both_clocks(app, client, auth):
    headers = auth.register()
    first = data_of(client.get("/api/schedule", headers=headers))
    assert first["quick_every_days"] == 7 and first["full_every_days"] == 30 and first["timezone"] == "UTC"
    assert first["next_quick_due"] == first["next_full_due"] and not first["overdue"]
    body = {"quick_every_days": 7, "full_every_days": 28, "timezone": "Europe/Berlin", "reminder_time": "19:30"}
    assert data_of(client.put("/api/schedule", json=body, headers=headers))["reminder_time"] == "19:30"
    now = datetime.now(UTC)
    finished_at(app, create_session(client, headers, "full"), now.replace(day=1, month=1, year=now.year - 1))
    quick = create_session(client, headers, "quick")
    finished_at(app, quick, now)
    after_quick = data_of(client.get("/api/schedule", headers=headers))
    assert after_quick["overdue"] is True  # the full one is a year late
    full = create_session(client, headers, "full")
    finished_at(app, full, now)
    after_full = data_of(client.get("/api/schedule", headers=headers))
    assert not after_full["overdue"]
    local = now.astimezone(ZoneInfo("Europe/Berlin")).date()
    assert after_full["next_quick_due"].startswith(f"{local + timedelta(days=7)}T19:30:00")
    assert after_full["next_full_due"].startswith(f"{local + timedelta(days=28)}T19:30:00")


@pytest.mark.parametrize(
    "body",
    [
        {"timezone": "Mars/Olympus"},
        {"timezone": "../../etc/passwd"},
        {"reminder_time": "25:00"},
        {"quick_every_days": 0},
        {"cycle_day": 32},
        {"full_every_days": "monthly"},
    ],
)
def test_schedule_refuses_what_is_not_a_schedule(client, auth, body):
    response = client.put("/api/schedule", json=body, headers=auth.register())
    assert response.status_code == 400 and response.get_json()["error"]["code"]


def test_the_calendar_feed_parses_has_alarms_no_health_word_and_its_old_link_dies(client, auth):
    headers = auth.register()
    url = data_of(client.get("/api/schedule", headers=headers))["calendar_url"]
    path = url.split("://", 1)[1].split("/", 1)[1]
    feed = client.get(f"/{path}")
    assert feed.status_code == 200 and feed.mimetype == "text/calendar"
    assert feed.headers["Cache-Control"].startswith("private")
    parsed = Calendar.from_ical(feed.data)
    events = [part for part in parsed.walk("VEVENT")]
    assert len(events) >= 4 and all(any(a.name == "VALARM" for a in e.subcomponents) for e in events)
    assert {str(e["SUMMARY"]) for e in events} <= {"Photo check-in", "Photo check-in: all views"}
    lowered = feed.data.decode().lower()
    assert not [word for word in HEALTH_WORDS if word in lowered]
    renewed = data_of(client.post("/api/schedule/calendar-token", headers=headers))["calendar_url"]
    assert renewed != url
    assert client.get(f"/{path}").status_code == 404
    assert client.get("/api/calendar/not-a-token.ics").status_code == 404
    assert client.get("/" + renewed.split("://", 1)[1].split("/", 1)[1]).status_code == 200


@pytest.fixture()
def two_versions(tmp_path, monkeypatch):
    """The consent texts with a second version of the processing text, as a later release would ship."""
    for kind in ("awareness_notice", "research"):
        (tmp_path / kind).mkdir()
        (tmp_path / kind / "1.md").write_bytes((consents.TEXTS / kind / "1.md").read_bytes())
    processing = tmp_path / "health_data_processing"
    processing.mkdir()
    (processing / "1.md").write_bytes((consents.TEXTS / "health_data_processing" / "1.md").read_bytes())

    def release() -> None:
        (processing / "2.md").write_text("# Processing of your photos and results\n\nA clearer second version.\n")
        consents.texts.cache_clear()

    monkeypatch.setattr(consents, "TEXTS", tmp_path)
    consents.texts.cache_clear()
    yield release
    consents.texts.cache_clear()


def test_consent_kinds_versions_staleness_and_withdrawal(client, auth, two_versions):
    headers = auth.register()
    shown = data_of(client.get("/api/consent-texts/health_data_processing"))
    assert shown["version"] == "1" and len(shown["sha256"]) == 64 and shown["text"].startswith("# ")
    assert client.get("/api/consent-texts/marketing").status_code == 404
    given = client.post(
        "/api/consents", json={"kind": "health_data_processing", "version": "1", "accepted": True}, headers=headers
    )
    assert given.status_code == 201
    state = {c["kind"]: c for c in data_of(given)["consents"]}
    assert state["health_data_processing"]["current"] is True and state["research"]["accepted"] is False
    assert (
        client.post(
            "/api/consents", json={"kind": "research", "version": "9", "accepted": True}, headers=headers
        ).status_code
        == 400
    )
    assert (
        client.post(
            "/api/consents", json={"kind": "other", "version": "1", "accepted": True}, headers=headers
        ).status_code
        == 400
    )

    two_versions()
    stale = {c["kind"]: c for c in data_of(client.get("/api/consents", headers=headers))["consents"]}
    assert stale["health_data_processing"] == {
        **stale["health_data_processing"],
        "accepted": True,
        "current": False,
        "version": "1",
        "current_version": "2",
    }
    old = client.post(
        "/api/consents", json={"kind": "health_data_processing", "version": "1", "accepted": True}, headers=headers
    )
    assert old.status_code == 409 and old.get_json()["error"]["code"] == "stale_version"
    client.post(
        "/api/consents", json={"kind": "health_data_processing", "version": "2", "accepted": True}, headers=headers
    )
    withdrawn = client.post(
        "/api/consents", json={"kind": "health_data_processing", "version": "2", "accepted": False}, headers=headers
    )
    ledger = data_of(withdrawn)
    assert [(e["version"], e["accepted"]) for e in ledger["history"]] == [("1", True), ("2", True), ("2", False)]
    assert {c["kind"]: c for c in ledger["consents"]}["health_data_processing"]["current"] is False


def test_consent_required_refuses_photos_and_analysis_until_given_and_after_withdrawal(app, client, auth, jpeg):
    app.config["CONSENT_REQUIRED"] = True
    headers = auth.register()
    sid = create_session(client, headers)
    # No photo is taken in before consent: 403, and nothing stored.
    before = upload(client, headers, sid, jpeg(next(iter(SCENES.values()))), "front")
    assert before.status_code == 403 and before.get_json()["error"]["code"] == "consent_required"
    assert data_of(client.get(f"/api/sessions/{sid}", headers=headers))["images"] == []
    with app.app_context():
        assert db.session.scalar(text("SELECT count(*) FROM images")) == 0
    refused = client.post(f"/api/analyze-session/{sid}", headers=headers)
    assert refused.status_code in (400, 403)
    version = data_of(client.get("/api/consent-texts/health_data_processing"))["version"]
    consent = {"kind": "health_data_processing", "version": version, "accepted": True}
    assert client.post("/api/consents", json=consent, headers=headers).status_code == 201
    for angle, name in list(SCENES.items())[:3]:
        assert upload(client, headers, sid, jpeg(name), angle).status_code == 201
    assert client.post(f"/api/analyze-session/{sid}", headers=headers).status_code == 200
    client.post("/api/consents", json={**consent, "accepted": False}, headers=headers)
    again = client.post(f"/api/analyze-session/{sid}?force=true", headers=headers)
    assert again.status_code == 403 and again.get_json()["error"]["code"] == "consent_required"


def test_analyze_session_completes_an_open_session_that_has_its_angles(client, auth, jpeg):
    headers = auth.register()
    few = create_session(client, headers)
    assert upload(client, headers, few, jpeg("astronaut"), "front").status_code == 201
    refused = client.post(f"/api/analyze-session/{few}", headers=headers)
    assert refused.status_code == 400 and refused.get_json()["error"]["code"] == "not_enough_angles"
    assert "front" in refused.get_json()["error"]["message"]
    assert data_of(client.get(f"/api/sessions/{few}", headers=headers))["status"] == "in_progress"
    sid = create_session(client, headers)
    for angle, name in list(SCENES.items())[:3]:
        assert upload(client, headers, sid, jpeg(name), angle).status_code == 201
    answered = client.post(f"/api/analyze-session/{sid}", headers=headers)
    assert answered.status_code == 200 and data_of(answered)["session_id"] == sid
    assert data_of(client.get(f"/api/sessions/{sid}", headers=headers))["status"] == "completed"


ZERO_SERIES = (
    'bcd_analyses_total{outcome="completed"} 0.0',
    'bcd_analyses_total{outcome="failed"} 0.0',
    'bcd_analyses_total{outcome="retry"} 0.0',
    'bcd_analysis_stage_duration_seconds_count{stage="regions"} 0.0',
    'bcd_analysis_stage_duration_seconds_count{stage="total"} 0.0',
    'bcd_rejections_total{limit="daily_quota"} 0.0',
    'bcd_rejections_total{limit="login_lockout"} 0.0',
)


def test_metrics_list_every_analysis_series_at_zero_before_any_event(migrated, upload_dir):
    """A process that has analysed nothing yet (this suite's own has): its first scrape has every series at 0."""
    script = (
        "from bcd_app import create_app; from tests.conftest import make_config; "
        f"app = create_app(make_config({migrated!r}, {upload_dir!r})); "
        "print(app.test_client().get('/metrics').get_data(as_text=True))"
    )
    exposition = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout
    missing = [series for series in ZERO_SERIES if series not in exposition]
    assert not missing, missing


def test_export_holds_the_ledger_and_erasure_removes_it(app, client, auth):
    headers = auth.register()
    version = data_of(client.get("/api/consent-texts/awareness_notice"))["version"]
    client.post(
        "/api/consents", json={"kind": "awareness_notice", "version": version, "accepted": True}, headers=headers
    )
    client.get("/api/schedule", headers=headers)
    exported = zipfile.ZipFile(io.BytesIO(client.get("/api/account/export", headers=headers).data))
    manifest = json.loads(exported.read("data.json"))
    assert [c["kind"] for c in manifest["consents"]] == ["awareness_notice"]
    assert manifest["schedule"]["timezone"] == "UTC"
    assert client.delete("/api/account", headers=headers).status_code == 200
    with app.app_context():
        left = db.session.scalar(
            text("SELECT (SELECT count(*) FROM consent_records) + (SELECT count(*) FROM schedules)")
        )
    assert left == 0
