"""docs/API.md and the generated OpenAPI description both cover every route the app serves, and nothing else."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "API.md"
PATH_PARAM = re.compile(r"{(\w+)}")


CONVERTER = re.compile(r"<\w+:(\w+)>")


def _routes(app, *, converters: bool = True) -> set[str]:
    rules = [
        (rule, rule.rule if converters else CONVERTER.sub(r"<\1>", rule.rule)) for rule in app.url_map.iter_rules()
    ]
    return {f"{method} {path}" for rule, path in rules for method in rule.methods - {"HEAD", "OPTIONS"}}


def test_every_route_is_documented(app):
    documented = {line[4:].strip() for line in DOC.read_text().splitlines() if line.startswith("### ")}
    missing = _routes(app) - documented
    assert not missing, f"missing from docs/API.md: {sorted(missing)}"


def test_openapi_is_generated_for_exactly_the_served_routes(app, client):
    described = client.get("/openapi.json").get_json()
    assert described["openapi"].startswith("3.")
    operations = {
        method.upper() + " " + PATH_PARAM.sub(r"<\1>", path)
        for path, item in described["paths"].items()
        for method in item
        if method in {"get", "post", "put", "delete", "patch"}
    }
    assert operations == _routes(app, converters=False)
    result = described["components"]["schemas"]["AnalysisResult"]
    assert {"interpretation", "localized_insights", "scores", "session_analysis"} <= set(result["properties"])
