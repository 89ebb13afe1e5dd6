"""Fuzz every operation of the OpenAPI description with schemathesis: no generated input gets a 5xx,
and every 4xx is our JSON error shape."""

import itertools
import json
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from tests.helpers import completed_session

OPENAPI = Path(__file__).resolve().parents[2] / "bcd_app" / "openapi.json"
schema = schemathesis.openapi.from_dict(json.loads(OPENAPI.read_text()))
SCENES = {"front": "astronaut", "left": "coffee", "right": "chelsea"}
ID_PARAMS = ("session_id", "current_id", "previous_id")
# Every other request aims at the user's real session instead of a random id.
_alternate = itertools.cycle((True, False))


@pytest.fixture()
def owner(client, auth, jpeg) -> dict:
    """A user with one completed session, so generated requests reach past the 404s too."""
    headers = auth.register()
    return {
        "headers": headers,
        "session_id": completed_session(client, headers, {a: jpeg(n) for a, n in SCENES.items()}),
    }


@pytest.mark.slow
@schema.parametrize()
@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.filter_too_much],
)
def test_no_generated_request_gets_a_server_error(case, app, owner):
    if next(_alternate):
        for name in ID_PARAMS:
            if case.path_parameters and name in case.path_parameters:
                case.path_parameters[name] = owner["session_id"]
    response = case.call(app=app, headers=owner["headers"])
    case.validate_response(response, checks=[not_a_server_error])
    if 400 <= response.status_code < 500 and response.headers.get("Content-Type", "").startswith("application/json"):
        body = response.json()
        assert {"code", "message"} <= set(body["error"]), body
