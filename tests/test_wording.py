"""Neutral wording: the banned words never appear in a response body or a user-facing string."""

import json
from pathlib import Path

import pytest

from bcd_app.scoring.interpretation import variation_level
from tests.conftest import BANNED

ROOT = Path(__file__).resolve().parents[1]


def test_source_strings_are_neutral():
    for path in [*(ROOT / "bcd_app").rglob("*.py"), ROOT / "README.md", *(ROOT / "docs").glob("*.md")]:
        if path.exists():
            assert not BANNED.search(path.read_text()), path


def test_full_flow_bodies_are_neutral(client, auth, jpeg):
    from tests.helpers import completed_session

    headers = auth.register()
    sid = completed_session(
        client, headers, {"front": jpeg("astronaut"), "left": jpeg("coffee"), "right": jpeg("rocket")}
    )
    body = client.post(f"/api/analyze-session/{sid}?async_process=false", headers=headers).get_json()
    assert not BANNED.search(json.dumps(body))


@pytest.mark.parametrize(
    ("distance", "level"),
    [
        (0.0, "Stable"),
        (0.0999, "Stable"),
        (0.10, "Mild Variation"),
        (0.25, "Moderate Variation"),
        (0.45, "Higher Variation"),
        (0.70, "Strong Variation"),
        (1.7, "Strong Variation"),
        (-0.2, "Stable"),
        (None, None),
    ],
)
def test_variation_bands(distance, level):
    assert variation_level(distance) == level
