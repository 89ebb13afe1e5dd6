"""For operators and integrators: the interactive docs render from local files, /metrics counts what happens
and is refused from other addresses."""

import re

import pytest

from tests.helpers import completed_session
from tests.photo_data import SCENES


def test_root_points_a_person_to_the_docs(client):
    response = client.get("/")
    assert response.status_code == 302 and response.headers["Location"].endswith("/docs")


def test_docs_render_with_every_asset_served_locally(client):
    page = client.get("/docs")
    assert page.status_code == 200 and page.mimetype == "text/html"
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]
    html = page.get_data(as_text=True)
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert len(assets) >= 5 and all(url.startswith("/") for url in assets), assets
    for url in assets:
        asset = client.get(url)
        assert asset.status_code == 200 and len(asset.data) > 100, url
    assert "/openapi.json" in client.get("/docs/init.js").get_data(as_text=True)
    assert client.get("/docs/assets/../../../etc/passwd").status_code == 404


def _sample(body: str, name: str, **labels: str) -> float:
    """The value of one series in an exposition (0 when absent)."""
    for line in body.splitlines():
        if line.startswith(name + "{") or line.startswith(name + " "):
            found = dict(re.findall(r'(\w+)="([^"]*)"', line.split("}")[0])) if "{" in line else {}
            if all(found.get(k) == v for k, v in labels.items()):
                return float(line.rsplit(" ", 1)[1])
    return 0.0


@pytest.mark.slow
def test_metrics_move_when_an_analysis_runs_and_are_refused_elsewhere(app, client, auth, jpeg, monkeypatch):
    before = client.get("/metrics").get_data(as_text=True)
    headers = auth.register()
    sid = completed_session(client, headers, {a: jpeg(n) for a, n in SCENES.items()})
    assert client.post(f"/api/analyze-session/{sid}", headers=headers).status_code == 200
    monkeypatch.setitem(app.config, "ANALYSIS_DAILY_QUOTA", 1)
    other = completed_session(client, headers, {a: jpeg(n) for a, n in SCENES.items()})
    assert client.post(f"/api/analyze-session/{other}", headers=headers).status_code == 429

    after = client.get("/metrics")
    assert after.status_code == 200 and after.mimetype == "text/plain"
    body = after.get_data(as_text=True)
    route = "/api/analyze-session/<session_id>"
    assert (
        _sample(body, "bcd_http_requests_total", method="POST", route=route, status="200")
        == _sample(before, "bcd_http_requests_total", method="POST", route=route, status="200") + 1
    )
    assert _sample(body, "bcd_analyses_total", outcome="completed") >= 1 + _sample(
        before, "bcd_analyses_total", outcome="completed"
    )
    assert _sample(body, "bcd_rejections_total", limit="daily_quota") == 1 + _sample(
        before, "bcd_rejections_total", limit="daily_quota"
    )
    for stage in ("preprocessing", "embedding", "regions", "total"):
        assert _sample(body, "bcd_analysis_stage_duration_seconds_count", stage=stage) > _sample(
            before, "bcd_analysis_stage_duration_seconds_count", stage=stage
        ), stage
    assert _sample(body, "bcd_upload_bytes_count") >= 6
    assert _sample(body, "bcd_jobs", status="completed") == 1
    assert 'bcd_model_info{dim="1280",name="efficientnet-lite0"' in body

    refused = client.get("/metrics", environ_base={"REMOTE_ADDR": "203.0.113.9"})
    assert refused.status_code == 403 and refused.get_json()["error"]["code"] == "forbidden"
