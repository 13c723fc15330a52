"""Property-based tests of the whole API against its OpenAPI document, with schemathesis
through WSGI: for every operation, calls generated from the document, made as an anonymous
caller and with the tokens of a learner, a DSU lead and a faculty member, must never answer
5xx and must answer exactly as the document says (status, content type, headers, body).

Examples are bounded and derandomised so the run is the same every time and quick.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from lms.accounts.models import User
from lms.api import services as api
from lms.extensions import db
from tests.authz import api as api_world

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_headers_conformance, response_schema_conformance]


@pytest.fixture
def api_schema(app):
    """The document as the app serves it, with rate limits out of the way for the run."""
    app.config["API_RATE_LIMIT_READ"] = app.config["API_RATE_LIMIT_WRITE"] = 1_000_000
    yield schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    app.config.pop("API_RATE_LIMIT_READ")
    app.config.pop("API_RATE_LIMIT_WRITE")


@pytest.fixture
def callers(app, people) -> dict[str, dict[str, str]]:
    """Headers for each kind of caller, over data for the calls to find: offerings to book,
    a place held, a running course with a register, ICS figures."""
    api_world.world(app, people)
    headers = {"anonymous": {}}
    with app.app_context():
        for role in ("learner", "dsu_same", "faculty"):
            user = db.session.get(User, getattr(people, role).id)
            secret = api.create_token(user, f"schemathesis {role}", "read_write").secret
            headers[role] = {"Authorization": f"Bearer {secret}"}
        db.session.commit()
    return headers


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(max_examples=25, derandomize=True, deadline=None, database=None,
          suppress_health_check=list(HealthCheck))
def test_every_operation_answers_as_documented_for_every_caller(case, callers):
    for role, headers in callers.items():
        response = case.call(headers=headers)
        try:
            case.validate_response(response, checks=CHECKS, headers=headers)
        except Exception as failure:
            raise AssertionError(f"as {role}: {failure}") from failure
