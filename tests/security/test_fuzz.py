"""Fuzz every operation of the generated OpenAPI description with schemathesis: no generated input gets
a 5xx, and every 4xx is our JSON error shape. Derandomized in `make test`; `make fuzz` goes deeper."""

import itertools
import os
import tempfile

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from bcd_app import create_app
from tests.conftest import make_config
from tests.helpers import completed_session

SCENES = {"front": "astronaut", "left": "coffee", "right": "chelsea"}
ID_PARAMS = ("session_id", "current_id", "previous_id")
# `make fuzz` sets FUZZ_EXAMPLES higher and FUZZ_SEED free; the suite replays one fixed seed.
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "25"))
DERANDOMIZE = os.environ.get("FUZZ_RANDOM", "0") != "1"
# Every other request aims at the user's real session instead of a random id.
_alternate = itertools.cycle((True, False))


def _served_description() -> dict:
    """The description an app of this code serves at /openapi.json (building one connects to nothing)."""
    application = create_app(make_config("postgresql+psycopg://unused/none", tempfile.gettempdir()))
    return application.test_client().get("/openapi.json").get_json()


schema = schemathesis.openapi.from_dict(_served_description())


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
    max_examples=EXAMPLES,
    derandomize=DERANDOMIZE,
    deadline=None,
    database=None,
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
