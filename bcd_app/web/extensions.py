"""The web-only extensions (CORS, burst limits, the OpenAPI description), created once and bound in the factory."""

import re

from flask import current_app
from flask_cors import CORS
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from spectree import SecurityScheme, SpecTree
from spectree.models import SecuritySchemeData

from ..constants import ANALYSIS_VERSION
from ..errors import Invalid, UnsupportedMediaType
from .errors import field_errors, report_invalid_response

cors = CORS()
limiter = Limiter(key_func=get_remote_address, default_limits=[], headers_enabled=True)


def _reject_invalid_request(req, _resp, error: Exception | None, _instance, _adapter) -> None:
    """spectree's hook before a view: a body or query that fails its model is our 400, naming the fields;
    a form body sent to a route that reads JSON is a 415 (spectree would hand the view no body at all)."""
    if error is not None:
        if req.mimetype == "application/json" and req.get_data() and req.get_json(silent=True) is None:
            raise Invalid("The request body is not valid JSON (or is nested too deeply).", code="invalid_json")
        raise Invalid(field_errors(error), code="validation_error")
    context = getattr(req, "context", None)
    if context is not None and context.json is None:
        declared = spec.get_function_metadata(current_app.view_functions[req.endpoint])
        if declared is not None and declared.json is not None:
            raise UnsupportedMediaType("The request body must be JSON (Content-Type: application/json).")


def _component_name(model: type) -> str:
    """OpenAPI component names allow only [A-Za-z0-9._-]: a generic like Ok[SessionOut] becomes Ok_SessionOut."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", model.__name__).strip("_")


# The OpenAPI description, generated from the pydantic models the routes declare with @spec.validate;
# spectree keeps our plain Flask app and blueprints (no app class of its own, unlike APIFlask or
# flask-openapi3), and validates query strings and bodies before a view runs.
spec = SpecTree(
    "flask",
    title="BCD backend",
    description="Measures visual variation between a person's own capture sessions, and how far to trust it. "
    "It is not a diagnostic tool.",
    version=ANALYSIS_VERSION,
    mode="strict",
    page_templates={},
    naming_strategy=_component_name,
    nested_naming_strategy=lambda _parent, child: child,
    validation_error_status=400,
    before=_reject_invalid_request,
    after=report_invalid_response,
    security_schemes=[
        SecurityScheme(
            name="bearer", data=SecuritySchemeData(type="http", scheme="bearer", description="POST /api/auth/login")
        )
    ],
    security={"bearer": []},
)
