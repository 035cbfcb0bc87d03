"""Under a custom domain's base path mapping (`API_BASE_PATH`), API Gateway keeps the base path in
the event's `path`: every route answers as it does on the execute-api URL."""

from __future__ import annotations

import json

import pytest
from capture_core.api.resolver import without_base_path
from capture_core.settings import Settings
from support.app import ASSETS, DEMO_TOKEN, CaptureApp

EVENT = {"api_key": DEMO_TOKEN, "event": "clicked", "distinct_id": "u1"}


@pytest.fixture
def app() -> CaptureApp:
    return CaptureApp(settings=Settings(api_base_path="ingest", static_assets_dir=str(ASSETS)))


@pytest.mark.parametrize("path", ["/ingest/e/", "/ingest/capture", "/ingest/batch/", "/e/"])
def test_capture_routes_store_events_with_and_without_the_base_path(app: CaptureApp, path: str):
    answer = app.request("POST", path, json.dumps(EVENT))
    assert (answer.status, answer.json()) == (200, {"status": 1})
    assert [event["event"] for event in app.stored()] == ["clicked"]


def test_engage_under_the_base_path_is_still_an_identify(app: CaptureApp):
    body = {"api_key": DEMO_TOKEN, "distinct_id": "u1", "$set": {"plan": "pro"}}
    assert app.request("POST", "/ingest/engage/", json.dumps(body)).status == 200
    assert app.stored()[0]["event"] == "$identify"


def test_capture_v1_under_the_base_path_answers_in_its_own_error_format(app: CaptureApp):
    answer = app.request("POST", "/ingest/i/v1/analytics/events", "{}")
    assert "error" in answer.json()
    assert "type" not in answer.json()


def test_a_known_path_under_the_base_path_answers_405_to_other_methods(app: CaptureApp):
    answer = app.request("DELETE", "/ingest/e/")
    assert (answer.status, answer.json()["code"]) == (405, "method_not_allowed")


def test_the_health_check_and_remote_config_answer_under_the_base_path(app: CaptureApp):
    assert app.request("GET", "/ingest/_health").status == 200
    assert app.request("GET", f"/ingest/array/{DEMO_TOKEN}/config").status == 200


def test_a_path_that_only_begins_like_the_base_path_is_not_stripped(app: CaptureApp):
    answer = app.request("POST", "/ingestion/e/", json.dumps(EVENT))
    assert (answer.status, answer.json()["code"]) == (404, "not_found")
    assert "/ingestion/e/" in answer.json()["detail"]


def test_without_the_setting_the_base_path_is_an_unknown_path():
    answer = CaptureApp().request("POST", "/ingest/e/", json.dumps(EVENT))
    assert answer.status == 404


@pytest.mark.parametrize(
    ("path", "base", "expected"),
    [
        ("/ingest/e/", "ingest", "/e/"),
        ("/ingest/e/", "/ingest/", "/e/"),
        ("/ingest", "ingest", "/"),
        ("/ingest/", "ingest", "/"),
        ("/ingestion/e", "ingest", "/ingestion/e"),
        ("/e/", "", "/e/"),
    ],
)
def test_without_base_path(path: str, base: str, expected: str):
    assert without_base_path(path, base) == expected
