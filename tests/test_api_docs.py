"""docs/API.md documents every route the app serves."""

from pathlib import Path

DOC = Path(__file__).resolve().parents[1] / "docs" / "API.md"


def test_every_route_is_documented(app):
    documented = {line[4:].strip() for line in DOC.read_text().splitlines() if line.startswith("### ")}
    for rule in app.url_map.iter_rules():
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            assert f"{method} {rule.rule}" in documented, f"{method} {rule.rule} missing from docs/API.md"
