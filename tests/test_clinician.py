"""For the visit to a clinician: the PDF report (read back with pypdf), its JSON summary and download link, and
share links that open without an account, stop when revoked or expired, and count their openings."""

import io
import re

import numpy as np
import pytest
from pypdf import PdfReader
from sqlalchemy import text

from bcd_app.db import db
from bcd_app.report.document import DISCLAIMER
from tests.conftest import BANNED
from tests.helpers import completed_session, create_session, data_of, upload
from tests.photo_data import SCENES, recapture


def _pdf_text(data: bytes) -> tuple[PdfReader, str]:
    reader = PdfReader(io.BytesIO(data))
    return reader, " ".join((page.extract_text() or "") for page in reader.pages)


def _images(reader: PdfReader) -> int:
    return sum(len(page.images) for page in reader.pages)


@pytest.fixture()
def analysed_pair(client, auth, jpeg, photos):
    """A person with a baseline and a second analysed session (re-taken photos), both of every scene's angle."""
    headers = auth.register()
    first = completed_session(client, headers, {a: jpeg(n) for a, n in SCENES.items()})
    assert client.post(f"/api/analyze-session/{first}", headers=headers).status_code == 200
    rng = np.random.default_rng(3)
    again = {a: jpeg(n, degrade=lambda p: recapture(p, rng)) for a, n in SCENES.items()}
    second = completed_session(client, headers, again)
    assert client.post(f"/api/analyze-session/{second}", headers=headers).status_code == 200
    return headers, first, second


def test_the_pdf_holds_the_date_levels_disclaimer_photos_and_chart_and_no_banned_word(client, analysed_pair):
    headers, _, second = analysed_pair
    response = client.get(f"/api/sessions/{second}/report.pdf", headers=headers)
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert "no-store" in response.headers["Cache-Control"]
    reader, content = _pdf_text(response.data)
    flat = re.sub(r"\s+", " ", content)
    result = data_of(client.get(f"/api/sessions/{second}/analysis", headers=headers))
    created = data_of(client.get(f"/api/sessions/{second}", headers=headers))["created_at"]
    day = int(created[8:10])
    assert f"{day:02d} " in flat and created[:4] in flat
    for angle in result["session_analysis"]["per_angle"]:
        assert f"{angle['angle_type'].capitalize()} view" in flat
        assert f"Level: {angle['variation_level']}" in flat
    assert re.sub(r"\s+", " ", DISCLAIMER)[:80] in flat
    # One picture per view and the chart.
    assert _images(reader) >= len(SCENES) + 1
    assert not BANNED.search(flat)
    assert "@example.com" not in flat
    assert len(response.data) <= 3_000_000

    summary = data_of(client.post(f"/api/generate-report/{second}", headers=headers))
    assert summary["first_session"] is False and len(summary["per_angle"]) == len(SCENES)
    assert summary["reference"].startswith("R-") and summary["disclaimer"] == DISCLAIMER
    download = client.get("/" + summary["report_url"].split("://", 1)[1].split("/", 1)[1])
    assert download.status_code == 200 and download.data[:5] == b"%PDF-"


def test_a_first_session_says_there_is_nothing_to_compare_with(client, auth, jpeg):
    headers = auth.register()
    sid = completed_session(client, headers, {a: jpeg(n) for a, n in list(SCENES.items())[:3]})
    assert client.post(f"/api/analyze-session/{sid}", headers=headers).status_code == 200
    _, content = _pdf_text(client.get(f"/api/sessions/{sid}/report.pdf", headers=headers).data)
    assert "first analysed session" in re.sub(r"\s+", " ", content)
    assert data_of(client.post(f"/api/generate-report/{sid}", headers=headers))["first_session"] is True


def test_reports_of_another_user_or_of_an_unanalysed_session(client, auth, jpeg, analysed_pair):
    headers, _, second = analysed_pair
    stranger = auth.register()
    assert client.get(f"/api/sessions/{second}/report.pdf", headers=stranger).status_code == 404
    assert client.post(f"/api/generate-report/{second}", headers=stranger).status_code == 404
    assert client.post("/api/shares", json={"session_id": second}, headers=stranger).status_code == 404
    open_one = create_session(client, headers)
    assert upload(client, headers, open_one, jpeg("astronaut"), "front").status_code == 201
    refused = client.get(f"/api/sessions/{open_one}/report.pdf", headers=headers)
    assert refused.status_code == 409 and refused.get_json()["error"]["code"] == "not_analysed"


def test_a_share_link_opens_without_a_token_counts_and_stops_when_revoked(client, analysed_pair):
    headers, _, second = analysed_pair
    made = client.post(
        "/api/shares", json={"session_id": second, "expires_in_days": 3, "note": "Dr. A"}, headers=headers
    )
    assert made.status_code == 201
    share = data_of(made)
    path = "/" + share["url"].split("://", 1)[1].split("/", 1)[1]
    token = path.rsplit("/", 1)[1]
    assert len(token) >= 43  # 256 bits in base64url
    page = client.get(path, headers={"User-Agent": "Mozilla/5.0 (X11; Linux x86_64) Chrome/140.0 Safari/537.36"})
    assert page.status_code == 200 and page.mimetype == "text/html"
    assert page.headers["Cache-Control"] == "private, no-store"
    assert page.headers["X-Robots-Tag"] == "noindex" and page.headers["Referrer-Policy"] == "no-referrer"
    assert "default-src 'none'" in page.headers["Content-Security-Policy"]
    assert "script" not in page.get_data(as_text=True).lower()
    assert page.get_data(as_text=True).count("<img") >= len(SCENES) + 1
    pdf = client.get(f"{path}/report.pdf")
    assert pdf.status_code == 200 and pdf.data[:5] == b"%PDF-"
    listed = data_of(client.get("/api/shares", headers=headers))["shares"]
    assert listed[0]["access_count"] == 2 and listed[0]["last_accessed_at"] and not listed[0]["revoked"]
    assert [o["agent_family"] for o in listed[0]["openings"]] == ["chrome desktop", "other desktop"]
    with client.application.app_context():
        kept = db.session.scalar(text("SELECT token_hash FROM share_links"))
    assert token not in kept and len(kept) == 64

    assert client.delete(f"/api/shares/{share['id']}", headers=headers).status_code == 200
    revoked = client.get(path)
    unknown = client.get("/s/" + "A" * 43)
    assert revoked.status_code == unknown.status_code == 404
    assert revoked.get_json()["error"] == unknown.get_json()["error"]
    assert data_of(client.get("/api/shares", headers=headers))["shares"][0]["revoked"] is True


def test_a_share_link_stops_at_its_expiry_and_goes_with_the_account(app, client, analysed_pair):
    headers, first, _ = analysed_pair
    share = data_of(client.post("/api/shares", json={"session_id": first}, headers=headers))
    path = "/" + share["url"].split("://", 1)[1].split("/", 1)[1]
    assert client.get(path).status_code == 200
    with app.app_context():
        db.session.execute(text("UPDATE share_links SET expires_at = now() - interval '1 second'"))
        db.session.commit()
    expired = client.get(path)
    assert expired.status_code == 404
    assert expired.get_json()["error"] == client.get("/s/nothing-here").get_json()["error"]
    assert data_of(client.get("/api/shares", headers=headers))["shares"][0]["expired"] is True
    for body in ({"session_id": first, "expires_in_days": 0}, {"session_id": first, "expires_in_days": 31}):
        assert client.post("/api/shares", json=body, headers=headers).status_code == 400
    assert client.delete("/api/account", headers=headers).status_code == 200
    with app.app_context():
        left = db.session.scalar(
            text("SELECT (SELECT count(*) FROM share_links) + (SELECT count(*) FROM share_accesses)")
        )
    assert left == 0
