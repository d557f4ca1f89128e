"""Schemathesis against the app's own OpenAPI document, in process (no server): every operation of
/api/v1/openapi.json is called with generated requests — valid ones and invalid ones — on the demo
city, anonymously and with a citizen's bearer token, and every answer must be no server error and
exactly what the document says (status code, content type, headers, body schema)."""
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from app.api.tokens import issue_token
from app.extensions import db
from app.models import User
from app.seed.demo import citizen_email, seed_demo

#: Examples per operation and generation mode: enough to reach every branch of the validation.
EXAMPLES = 25
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_headers_conformance,
          response_schema_conformance]
#: Every operation DESIGN.md §5 promises, and those issue 8 adds.
CONTRACT = {"createToken", "listProposals", "getProposal", "supportProposal", "withdrawSupport", "listReports",
            "getReport", "createReport", "listPacts", "getPact", "flagContent", "mapFeatures", "listDistricts",
            "listCategories", "listProcesses", "getProcess", "listHouses", "getHouse", "listComments",
            "createComment", "joinPact", "leavePact", "listDebates", "getDebate", "listEvents", "getEvent",
            "getStatistics", "getStatisticsChart", "searchAll"}


@pytest.fixture
def demo_token(app):
    """The demo city, and a bearer token of one of its verified citizens."""
    with app.app_context():
        seed_demo()
        user = db.session.scalar(db.select(User).where(User.email == citizen_email(1)))
        _token, secret = issue_token(user, "schemathesis")
        db.session.commit()
    return secret


def _run(operation, mode, headers, failures):
    @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    @given(case=operation.as_strategy(generation_mode=mode))
    def check(case):
        case.call_and_validate(headers=headers, checks=CHECKS)

    try:
        check()
    except Unsatisfiable:
        # Negative mode on an operation that takes nothing, or only free text: no invalid request exists.
        assert mode is GenerationMode.NEGATIVE, f"{operation.label}: no valid request could be generated"
    except (Exception, BaseExceptionGroup) as exc:  # schemathesis groups its failures
        failures.append(f"{operation.label} [{mode.value}]: {exc}")


def test_every_operation_answers_as_the_document_says(app, demo_token):
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    ids = {op.definition.raw.get("operationId") for op in operations}
    assert CONTRACT <= ids, f"missing operations: {CONTRACT - ids}"
    failures = []
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            for headers in ({}, {"Authorization": f"Bearer {demo_token}"}):
                _run(operation, mode, headers, failures)
    assert not failures, "\n\n".join(failures)
