"""schemathesis against the running local stack, from the document it serves: no 5xx, and no
answer that breaks the document."""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path

import pytest
import schemathesis
from capture_local import LocalStack
from hypothesis import HealthCheck, given, settings
from schemathesis import checks

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]


# No 5xx, and every answer as documented: status, media type, headers, body. (The schema cannot say
# all the contract's rules, e.g. distinct_id's three sources, so "valid by the schema, yet 400" is
# not a failure here; the golden corpus and unit tests hold those rules.)
CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_headers_conformance,
    checks.response_schema_conformance,
]
OPERATIONS = [
    f"{method.upper()} {path}"
    for path, operations in json.loads((ROOT / "openapi.json").read_text())["paths"].items()
    for method in operations
]


@pytest.mark.parametrize("label", OPERATIONS)
def test_api_keeps_to_its_document(local_stack: LocalStack, label: str):
    schema = schemathesis.openapi.from_url(f"{local_stack.api_url}/openapi.json")
    method, path = label.split()
    operation = schema[path][method]
    # The demo key as a Bearer token: requests whose body names no key of their own authenticate.
    headers = {"Authorization": f"Bearer {local_stack.token}"}

    @given(case=operation.as_strategy())
    @settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    def call(case: schemathesis.Case) -> None:
        case.call_and_validate(base_url=local_stack.api_url, headers=headers, checks=CHECKS)

    call()


def test_the_served_document_is_the_committed_one(local_stack: LocalStack):
    with urllib.request.urlopen(f"{local_stack.api_url}/openapi.json", timeout=10) as response:
        served = json.load(response)
    assert served == json.loads((ROOT / "openapi.json").read_text())


def test_swagger_ui_is_served(local_stack: LocalStack):
    with urllib.request.urlopen(f"{local_stack.api_url}/docs", timeout=10) as response:
        page = response.read().decode()
    assert response.status == 200
    assert "SwaggerUIBundle" in page
    assert "PostHog Capture API" in page
