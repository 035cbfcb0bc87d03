"""The OpenAPI document: generated from the code, valid, committed, and faithful to the seed's names."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from capture_admin.openapi import generated
from capture_core.api.routes import BATCH_PATHS, CAPTURE_PATHS, HEALTH_PATH, V1_PATH
from capture_core.events.stored import STORED_FIELDS
from capture_core.lanes.v1_request import REQUIRED_HEADERS
from openapi_spec_validator import validate

ROOT = Path(__file__).resolve().parents[2]
SEED_SCHEMAS = {
    "Event",
    "EventCaptureRequest",
    "EventsCaptureRequest",
    "EventsCaptureResponse",
    "EventsCaptureClientErrorResponse",
    "EventsCaptureUnauthenticatedResponse",
    "SetPersonProperties",
    "SetOncePersonProperties",
}


@cache
def files() -> dict[Path, str]:
    return generated()


def document() -> dict[str, Any]:
    return json.loads(files()[ROOT / "openapi.json"])


@pytest.mark.parametrize("name", ["openapi.json", "schemas/stored-event.schema.json"])
def test_committed_file_is_what_the_code_generates(name: str):
    # `make openapi` writes them; this fails when the code changed and they were not regenerated.
    assert (ROOT / name).read_text(encoding="utf-8") == files()[ROOT / name]


def test_document_is_valid_openapi_31():
    validate(document())
    assert document()["openapi"].startswith("3.1")
    assert (document()["info"]["title"], document()["info"]["version"]) == ("PostHog Capture API", "1.0.0")


def test_schema_names_follow_the_seed_and_nothing_is_undefined():
    schemas = document()["components"]["schemas"]
    assert set(schemas) >= SEED_SCHEMAS
    assert "undefined" not in json.dumps(document())


V1_AND_RECORDINGS = {"/i/v1/analytics/events", "/s"}
CONFIG_PATHS = {
    "/flags",
    "/decide",
    "/array/{token}/config",
    "/array/{token}/config.js",
    "/array/{token}/array.js",
    "/static/{version}/{name}",
    "/static/{name}",
    "/flags/definitions",
    "/api/feature_flag/local_evaluation",
    "/api/projects/@current/feature_flags/{key}/remote_config",
    "/api/surveys",
    "/api/early_access_features",
    "/api/product_tours",
    "/api/web_experiments",
}


def test_every_functions_routes_are_in_one_document():
    paths = document()["paths"]
    assert set(paths) == (
        set(CAPTURE_PATHS) | set(BATCH_PATHS) | CONFIG_PATHS | V1_AND_RECORDINGS | {HEALTH_PATH}
    )
    assert set(paths[HEALTH_PATH]) == {"get"}
    for path in V1_AND_RECORDINGS:
        assert set(paths[path]) <= {"post", "options"}
    for path in (*CAPTURE_PATHS, *BATCH_PATHS, "/flags", "/decide"):
        assert set(paths[path]) == {"get", "post", "options"}
    server_only = {
        p for p in CONFIG_PATHS if "definitions" in p or "local_evaluation" in p or "feature_flags" in p
    }
    for path in CONFIG_PATHS - {"/flags", "/decide"} - server_only:
        assert set(paths[path]) == {"get", "options"}
    for path in server_only:  # asked by server SDKs only: no preflight
        assert set(paths[path]) == {"get"}


def test_remote_config_flags_and_decide_answers_have_their_models():
    paths = document()["paths"]
    config = paths["/array/{token}/config"]["get"]["responses"]
    assert config["200"]["content"]["application/json"]["schema"]["$ref"].endswith("/RemoteConfigResponse")
    assert set(config) == {"200", "400", "404", "503"}
    decide = paths["/decide"]["post"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert decide["$ref"].endswith("/DecideResponse")
    flags = json.dumps(paths["/flags"]["post"]["responses"]["200"])
    assert "FlagsResponse" in flags
    assert "FlagsV1Response" in flags


def test_v1_and_recordings_answers_have_their_models():
    paths = document()["paths"]
    v1 = paths["/i/v1/analytics/events"]["post"]
    assert v1["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "/V1CaptureResponse"
    )
    assert set(v1["responses"]) == {"200", "400", "401", "413", "415", "503"}
    assert "V1CaptureRequest" in json.dumps(v1["requestBody"])
    assert "SnapshotEvent" in json.dumps(paths["/s"]["post"]["requestBody"])


def test_v1_declares_the_headers_it_requires_as_required_header_parameters():
    v1 = document()["paths"][V1_PATH]["post"]
    headers = {p["name"]: p["required"] for p in v1["parameters"] if p["in"] == "header"}
    # OpenAPI says the Content-Type as the request body's media types, never as a parameter.
    assert {name for name, required in headers.items() if required} == (
        {"Authorization", *REQUIRED_HEADERS} - {"Content-Type"}
    )
    assert set(v1["requestBody"]["content"]) == {"application/json"}
    assert headers["Content-Encoding"] is False


def test_post_takes_every_media_type_and_the_query_parameters():
    for path in (*CAPTURE_PATHS, *BATCH_PATHS):
        operations = document()["paths"][path]
        post = operations["post"]
        assert set(post["requestBody"]["content"]) == {
            "application/json",
            "text/plain",
            "application/x-www-form-urlencoded",
            "multipart/form-data",
        }
        assert {p["name"] for p in post["parameters"]} == {"ip", "compression", "data", "beacon", "_"}


def test_every_answer_the_api_gives_is_documented_with_its_model():
    responses = document()["paths"]["/batch"]["post"]["responses"]
    assert set(responses) == {"200", "204", "400", "401", "413", "503"}
    assert responses["200"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "/EventsCaptureResponse"
    )
    assert responses["401"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "/EventsCaptureUnauthenticatedResponse"
    )


def test_stored_event_schema_names_every_field_of_the_stored_event():
    schema = json.loads(files()[ROOT / "schemas" / "stored-event.schema.json"])
    assert schema["required"] == list(STORED_FIELDS)


def test_stored_events_of_the_golden_corpus_match_the_published_schema():
    from jsonschema import Draft202012Validator

    validator = Draft202012Validator(json.loads(files()[ROOT / "schemas" / "stored-event.schema.json"]))
    events = [
        e
        for case in (ROOT / "tests/golden/cases").glob("*.json")
        for e in json.loads(case.read_text())["events"]
    ]
    assert len(events) > 50
    for event in events:
        validator.validate(event)
