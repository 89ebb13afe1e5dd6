"""The cycle beside the photos: where a date falls in her cycle (a pure table), her cycle log over HTTP (sealed,
exported, erased, hers alone), results that know the phase, and a schedule that follows the cycle."""

import io
import json
import zipfile
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text

from bcd_app.db import db
from bcd_app.habit.cycle import Logged, Place, check_dates, where_in_cycle
from bcd_app.habit.schedule import Plan, next_due
from tests.conftest import TABLES
from tests.helpers import completed_session, data_of, finished_at
from tests.photo_data import SCENES

D = date.fromisoformat


def _starts(*days: str, length: int | None = None) -> list[Logged]:
    """A log with a period start on each day (an entry that day), the first one carrying `length`."""
    return [Logged(D(day), "unknown", D(day), length if i == 0 else None) for i, day in enumerate(days)]


REGULAR = _starts("2026-01-01", "2026-01-29", "2026-02-26")
# Gaps 24, 33, 31, 29 (median 30), and one of 56: a period she did not log, not a cycle.
IRREGULAR = _starts("2026-01-01", "2026-01-25", "2026-02-27", "2026-03-30", "2026-04-28", "2026-06-23")
SINGLE = _starts("2026-03-01")
SINGLE_32 = _starts("2026-03-01", length=32)
PHASES_ONLY = [Logged(D("2026-03-05"), "follicular", None, None), Logged(D("2026-03-06"), "unknown", None, None)]
WITH_A_LOGGED_PHASE = [*SINGLE, Logged(D("2026-03-05"), "luteal", None, None)]

TABLE = [
    # history, date, cycle day, phase, source
    (REGULAR, "2026-02-26", 1, "menstrual", "estimated"),
    (REGULAR, "2026-03-02", 5, "menstrual", "estimated"),
    (REGULAR, "2026-03-03", 6, "follicular", "estimated"),
    (REGULAR, "2026-03-10", 13, "follicular", "estimated"),
    (REGULAR, "2026-03-11", 14, "ovulation", "estimated"),
    (REGULAR, "2026-03-13", 16, "ovulation", "estimated"),
    (REGULAR, "2026-03-14", 17, "luteal", "estimated"),
    (REGULAR, "2026-03-25", 28, "luteal", "estimated"),
    # The next start not logged: the next expected cycle, up to two cycles after the last start.
    (REGULAR, "2026-03-26", 1, "menstrual", "estimated"),
    (REGULAR, "2026-04-22", 28, "luteal", "estimated"),
    (REGULAR, "2026-04-23", None, "unknown", "unknown"),
    (REGULAR, "2025-12-31", None, "unknown", "unknown"),
    # Only the starts up to the date count: on 10 Feb the one gap is 24 days (ovulation on days 10-12).
    (IRREGULAR, "2026-02-10", 17, "luteal", "estimated"),
    # From 28 Apr the gaps 24, 33, 31, 29 give 30 days: ovulation on days 16-18.
    (IRREGULAR, "2026-05-04", 7, "follicular", "estimated"),
    (IRREGULAR, "2026-05-12", 15, "follicular", "estimated"),
    (IRREGULAR, "2026-05-13", 16, "ovulation", "estimated"),
    (IRREGULAR, "2026-05-15", 18, "ovulation", "estimated"),
    (IRREGULAR, "2026-05-16", 19, "luteal", "estimated"),
    # The 56-day gap is left out of the median: still 30 days after it.
    (IRREGULAR, "2026-07-09", 17, "ovulation", "estimated"),
    (SINGLE, "2026-03-20", 20, "luteal", "estimated"),
    (SINGLE, "2026-04-25", 28, "luteal", "estimated"),
    (SINGLE, "2026-04-26", None, "unknown", "unknown"),
    (SINGLE_32, "2026-03-20", 20, "ovulation", "estimated"),
    (SINGLE_32, "2026-03-21", 21, "luteal", "estimated"),
    (SINGLE_32, "2026-05-03", 32, "luteal", "estimated"),
    (SINGLE_32, "2026-05-04", None, "unknown", "unknown"),
    (PHASES_ONLY, "2026-03-05", None, "follicular", "logged"),
    (PHASES_ONLY, "2026-03-06", None, "unknown", "unknown"),
    ([], "2026-03-06", None, "unknown", "unknown"),
    (WITH_A_LOGGED_PHASE, "2026-03-05", 5, "luteal", "logged"),
    (WITH_A_LOGGED_PHASE, "2026-03-06", 6, "follicular", "estimated"),
]


@pytest.mark.parametrize(("history", "day", "cycle_day", "phase", "source"), TABLE)
def test_where_in_the_cycle(history, day, cycle_day, phase, source):
    assert where_in_cycle(history, D(day)) == Place(cycle_day, phase, source)


def test_a_28_day_cycle_is_the_pages_own_phases():
    """For 28 days the phases are the Cycle Tracker's predictPhaseForDate: 1-5, 6-13, 14-16, 17-28."""
    phases = [where_in_cycle(REGULAR, D("2026-02-26") + timedelta(days=n)).phase for n in range(28)]
    expected = ["menstrual"] * 5 + ["follicular"] * 8 + ["ovulation"] * 3 + ["luteal"] * 12
    assert phases == expected


def test_check_dates_follow_the_latest_start_as_far_as_the_estimate_holds():
    assert check_dates(REGULAR, 7) == [D("2026-03-04"), D("2026-04-01")]
    assert check_dates(SINGLE_32, 7) == [D("2026-03-07"), D("2026-04-08")]
    assert check_dates(SINGLE, 30) == []  # a day the cycle does not have
    assert check_dates(PHASES_ONLY, 7) == []


def _at(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_next_full_on_the_cycle_day_across_a_month_end_and_the_end_of_summer_time():
    """Berlin leaves summer time on 25 Oct 2026. A start logged on 29 Sep (28 days): day 7 falls on 5 Oct and
    2 Nov; from 20 Oct (no session yet) the full check-in is 2 Nov at 09:00, now +01:00."""
    history = _starts("2026-09-29", length=28)
    plan = Plan(7, 30, None, "Europe/Berlin", time(9, 0), tuple(check_dates(history, 7)))
    due = next_due(plan, None, None, now=_at(2026, 10, 20, 10))
    assert due.next_full.isoformat() == "2026-11-02T09:00:00+01:00"
    assert due.next_quick.isoformat() == "2026-10-20T09:00:00+02:00"
    # After a full session on 5 Oct, the cycle day after it nearest to 30 days on: 2 Nov, not 4 Nov.
    done = _at(2026, 10, 5, 8)
    assert next_due(plan, done, done, now=_at(2026, 10, 20)).next_full.date() == D("2026-11-02")
    # After 2 Nov the log gives no later date: 30 days on, as without a cycle.
    done = _at(2026, 11, 2, 8)
    assert next_due(plan, done, done, now=_at(2026, 11, 3)).next_full.date() == D("2026-12-02")


def _put(client, headers, day, **body):
    return client.put(f"/api/cycle-logs/{day}", json=body, headers=headers)


NOTE = "felt a little sore after the gym, ask about it"


def test_the_log_round_trips_clears_what_is_left_out_and_lists_a_range(client, auth):
    headers = auth.register()
    today = date.today()
    first = _put(
        client,
        headers,
        today - timedelta(days=3),
        phase="luteal",
        period_start=(today - timedelta(days=20)).isoformat(),
        cycle_length=29,
        symptoms=["tenderness", "other", "tenderness"],
        other_symptom="back ache",
        notes=NOTE,
    )
    assert first.status_code == 200, first.get_json()
    entry = data_of(first)
    assert entry["symptoms"] == ["tenderness", "other"] and entry["notes"] == NOTE
    assert entry["other_symptom"] == "back ache" and entry["cycle_length"] == 29
    assert _put(client, headers, today, phase="menstrual", period_start=today.isoformat()).status_code == 200
    # Written whole: a field left out is cleared.
    again = data_of(_put(client, headers, today - timedelta(days=3), phase="follicular"))
    assert (again["notes"], again["symptoms"], again["period_start"]) == (None, [], None)
    listed = client.get(
        f"/api/cycle-logs?from={today - timedelta(days=10)}&to={today + timedelta(days=1)}", headers=headers
    )
    assert [e["date"] for e in data_of(listed)["entries"]] == [str(today - timedelta(days=3)), str(today)]
    narrow = client.get(f"/api/cycle-logs?from={today}&to={today}", headers=headers)
    assert [e["phase"] for e in data_of(narrow)["entries"]] == ["menstrual"]
    assert client.delete(f"/api/cycle-logs/{today}", headers=headers).status_code == 200
    assert client.delete(f"/api/cycle-logs/{today}", headers=headers).status_code == 404
    assert data_of(client.get(f"/api/cycle-logs?from={today}&to={today}", headers=headers))["entries"] == []


@pytest.mark.parametrize(
    ("path_day", "body"),
    [
        ("0", {"phase": "luteal"}),
        ("2026-02-30", {"phase": "luteal"}),
        ("20261201", {"phase": "luteal"}),
        ("today", {"phase": "luteal"}),
        ("2026-11-01", {"phase": "premenstrual"}),
        ("2026-11-01", {"symptoms": ["cramping", "fatigue"]}),
        ("2026-11-01", {"cycle_length": 20}),
        ("2026-11-01", {"cycle_length": 36}),
        ("2026-11-01", {"period_start": "2026-11-02"}),
        ("2026-11-01", {"period_start": "yesterday"}),
        ("2026-11-01", {"notes": "x" * 1001}),
        ("2026-11-01", {"notes": "a\x00b"}),
        ("+2", {"phase": "luteal"}),
    ],
)
def test_each_bad_entry_is_a_400(client, auth, path_day, body):
    headers = auth.register()
    if path_day == "+2":
        path_day = str(date.today() + timedelta(days=2))
    response = _put(client, headers, path_day, **body)
    assert response.status_code == 400, response.get_json()
    assert set(response.get_json()) >= {"error", "detail"}


def test_a_day_ahead_is_allowed_two_are_not(client, auth):
    headers = auth.register()
    assert _put(client, headers, date.today() + timedelta(days=1), phase="luteal").status_code == 200
    assert _put(client, headers, date.today() + timedelta(days=2), phase="luteal").status_code == 400


@pytest.mark.parametrize(
    "query",
    ["from=2026-05-02&to=2026-05-01", "from=2025-01-01&to=2026-02-05", "from=2026-05-01", "from=x&to=2026-05-01"],
)
def test_each_bad_range_is_a_400(client, auth, query):
    response = client.get(f"/api/cycle-logs?{query}", headers=auth.register())
    assert response.status_code == 400, response.get_json()


def test_a_400_day_range_is_the_longest(client, auth):
    headers = auth.register()
    assert client.get("/api/cycle-logs?from=2025-01-01&to=2026-02-04", headers=headers).status_code == 200
    assert client.get("/api/cycle-logs?from=2025-01-01&to=2026-02-05", headers=headers).status_code == 400


def test_another_persons_log_is_invisible(client, auth):
    hers, other = auth.register(), auth.register()
    day = date.today()
    assert _put(client, hers, day, phase="luteal", notes=NOTE).status_code == 200
    assert data_of(client.get(f"/api/cycle-logs?from={day}&to={day}", headers=other))["entries"] == []
    assert client.delete(f"/api/cycle-logs/{day}", headers=other).status_code == 404
    assert data_of(client.get(f"/api/cycle-logs?from={day}&to={day}", headers=hers))["entries"][0]["notes"] == NOTE


def test_notes_are_sealed_in_the_database_and_storage_then_exported_and_erased(app, client, auth, upload_dir):
    headers = auth.register()
    day = date.today()
    assert _put(client, headers, day, phase="luteal", notes=NOTE, symptoms=["other"], other_symptom="hiccups")
    with app.app_context():
        dump = "\n".join(
            row
            for table in TABLES.split(", ")
            for row in db.session.scalars(text(f"SELECT CAST(t AS text) FROM {table} t"))
        )
        db.session.remove()
    stored = b"".join(path.read_bytes() for path in Path(upload_dir).rglob("*") if path.is_file())
    for secret in (NOTE, "hiccups"):
        assert secret not in dump and secret.encode().hex() not in dump and secret.encode() not in stored
    exported = zipfile.ZipFile(io.BytesIO(client.get("/api/account/export", headers=headers).data))
    log = json.loads(exported.read("data.json"))["cycle_log"]
    assert [(e["date"], e["notes"], e["other_symptom"]) for e in log] == [(str(day), NOTE, "hiccups")]
    assert client.delete("/api/account", headers=headers).status_code == 200
    with app.app_context():
        assert db.session.scalar(text("SELECT count(*) FROM cycle_logs")) == 0


def test_writing_the_log_needs_the_health_data_consent_when_it_is_required(app, client, auth):
    app.config["CONSENT_REQUIRED"] = True
    headers = auth.register()
    refused = _put(client, headers, date.today(), phase="luteal")
    assert refused.status_code == 403 and refused.get_json()["error"]["code"] == "consent_required"
    version = data_of(client.get("/api/consent-texts/health_data_processing"))["version"]
    consent = {"kind": "health_data_processing", "version": version, "accepted": True}
    assert client.post("/api/consents", json=consent, headers=headers).status_code == 201
    assert _put(client, headers, date.today(), phase="luteal").status_code == 200


def _analysed(client, headers, app, jpeg, when: datetime) -> dict:
    session_id = completed_session(client, headers, {angle: jpeg(name) for angle, name in SCENES.items()})
    finished_at(app, session_id, when)
    response = client.post(f"/api/analyze-session/{session_id}", headers=headers)
    assert response.status_code == 200, response.get_json()
    return data_of(response)


def test_results_know_the_phase_say_so_and_compare_like_with_like(app, client, auth, jpeg):
    """Starts every 28 days; the baseline on cycle day 8 (follicular), then day 21 and today day 23 (luteal)."""
    headers = auth.register()
    today = datetime.now(UTC).date()
    last_start = today - timedelta(days=22)
    for start in (last_start - timedelta(days=56), last_start - timedelta(days=28), last_start):
        assert _put(client, headers, start, phase="menstrual", period_start=start.isoformat()).status_code == 200
    noon = lambda day: datetime.combine(day, time(12), tzinfo=UTC)  # noqa: E731
    baseline = _analysed(client, headers, app, jpeg, noon(last_start - timedelta(days=28) + timedelta(days=7)))
    assert baseline["cycle_context"] == {
        "today": {"cycle_day": 8, "phase": "follicular", "source": "estimated"},
        "baseline": None,
        "same_phase": None,
    }
    luteal = _analysed(client, headers, app, jpeg, noon(last_start - timedelta(days=28) + timedelta(days=20)))
    context = luteal["cycle_context"]
    assert context["today"] == {"cycle_day": 21, "phase": "luteal", "source": "estimated"}
    assert context["baseline"] == {"cycle_day": 8, "phase": "follicular", "source": "estimated"}
    assert context["same_phase"] is False and "same_phase_session" not in context
    assert "follicular phase and today's in the luteal phase" in context["insight"]
    assert context["insight"] in luteal["interpretation"]["explanation_text"]
    assert "same_phase" not in luteal["comparison_layers_used"]
    now = _analysed(client, headers, app, jpeg, datetime.now(UTC))
    context = now["cycle_context"]
    assert context["today"] == {"cycle_day": 23, "phase": "luteal", "source": "estimated"}
    assert context["same_phase_session"]["session_id"] == luteal["session_id"]
    assert context["same_phase_session"]["distance"] is not None
    assert "same_phase" in now["comparison_layers_used"]
    for angle in now["session_analysis"]["per_angle"]:
        assert angle["comparisons"]["same_phase"]["available"] is True
    # A day she logged her own phase reads as logged, and a re-analysis follows the log.
    assert _put(client, headers, today, phase="follicular").status_code == 200
    forced = client.post(f"/api/analyze-session/{now['session_id']}?force=true", headers=headers)
    context = data_of(forced)["cycle_context"]
    assert context["today"] == {"cycle_day": 23, "phase": "follicular", "source": "logged"}
    assert context["same_phase"] is True and context["same_phase_session"]["session_id"] == baseline["session_id"]


def test_the_report_lists_each_sessions_cycle_day_and_notes_only_when_asked(app, client, auth, jpeg):
    headers = auth.register()
    today = datetime.now(UTC).date()
    assert _put(client, headers, today, phase="luteal", period_start=str(today - timedelta(days=20)), notes=NOTE)
    session_id = _analysed(client, headers, app, jpeg, datetime.now(UTC))["session_id"]
    plain = client.post("/api/shares", json={"session_id": session_id}, headers=headers)
    noted = client.post("/api/shares", json={"session_id": session_id, "include_cycle_notes": True}, headers=headers)
    local = lambda url: "/" + url.split("://", 1)[1].split("/", 1)[1]  # noqa: E731
    plain_page = client.get(local(data_of(plain)["url"])).get_data(as_text=True)
    noted_page = client.get(local(data_of(noted)["url"])).get_data(as_text=True)
    assert "cycle day 21, luteal phase (logged)" in plain_page and NOTE not in plain_page
    assert NOTE in noted_page
    listed = data_of(client.get("/api/shares", headers=headers))["shares"]
    assert sorted(link["include_cycle_notes"] for link in listed) == [False, True]


def test_the_schedule_follows_the_cycle_across_a_month_end_and_a_clock_change(app, client, auth, monkeypatch):
    """On 20 Oct 2026 in Berlin, a start logged on 29 Sep: the full check-in goes to cycle day 7 on 2 Nov (after
    the clock change), then to the day asked for."""
    moment = _at(2026, 10, 20, 10)
    monkeypatch.setattr("bcd_app.services.schedule.utcnow", lambda: moment)
    monkeypatch.setattr("bcd_app.services.cycle_log.utcnow", lambda: moment)
    headers = auth.register()
    assert data_of(client.get("/api/schedule", headers=headers))["cycle_check_day"] == 7
    wanted = {"timezone": "Europe/Berlin", "reminder_time": "09:00"}
    assert client.put("/api/schedule", json=wanted, headers=headers).status_code == 200
    assert _put(client, headers, "2026-09-29", phase="menstrual", period_start="2026-09-29", cycle_length=28)
    schedule = data_of(client.get("/api/schedule", headers=headers))
    assert schedule["next_full_due"] == "2026-11-02T09:00:00+01:00"
    assert schedule["next_quick_due"] == "2026-10-20T09:00:00+02:00"
    asked = data_of(client.put("/api/schedule", json={**wanted, "cycle_check_day": 9}, headers=headers))
    assert asked["cycle_check_day"] == 9 and asked["next_full_due"] == "2026-11-04T09:00:00+01:00"
    feed = client.get("/" + asked["calendar_url"].split("://", 1)[1].split("/", 1)[1]).get_data(as_text=True)
    assert "full-2026-11-04-" in feed
    off = data_of(client.put("/api/schedule", json={**wanted, "cycle_check_day": None}, headers=headers))
    assert off["next_full_due"] == "2026-10-20T09:00:00+02:00"
