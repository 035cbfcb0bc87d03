"""`GET /_health`: the key table and both streams are described, cached per container, and a
failure answers 503 in the contract's error format (docs/protocol.md §7)."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import EndpointConnectionError
from capture_core.lanes.health import CACHE_SECONDS, Health, stack_checks
from capture_core.settings import Settings
from support.app import CaptureApp
from support.fakes import FakeKeyTable, FakeStreams

SETTINGS = Settings()


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def app() -> CaptureApp:
    return CaptureApp()


def test_answers_200_with_every_check_ok(app: CaptureApp):
    answer = app.request("GET", "/_health", headers={"Origin": "https://shop.example"})
    assert answer.status == 200
    assert answer.json() == {
        "status": "ok",
        "checks": {"api_keys_table": "ok", "events_stream": "ok", "recordings_stream": "ok"},
    }
    assert answer.headers["Access-Control-Allow-Origin"] == "https://shop.example"
    assert answer.headers["Cache-Control"] == "no-store"


def test_takes_a_trailing_slash(app: CaptureApp):
    assert app.request("GET", "/_health/").status == 200


def test_other_methods_are_405(app: CaptureApp):
    answer = app.request("POST", "/_health", "{}")
    assert (answer.status, answer.json()["code"]) == (405, "method_not_allowed")


def test_a_missing_stream_is_503_sink_unavailable_naming_the_check(app: CaptureApp):
    app.streams.failures[app.settings.recordings_stream_name] = "ResourceNotFoundException"
    answer = app.request("GET", "/_health")
    assert answer.status == 503
    body = answer.json()
    assert (body["type"], body["code"]) == ("server_error", "sink_unavailable")
    assert body["attr"] == "recordings_stream"
    assert "ResourceNotFoundException" in body["detail"]
    assert answer.headers["Retry-After"] == "5"


def test_an_unreachable_key_table_is_503_auth_unavailable(app: CaptureApp):
    app.table.failure = "AccessDeniedException"
    body = app.request("GET", "/_health").json()
    assert (body["code"], body["attr"]) == ("auth_unavailable", "api_keys_table")
    assert "AccessDeniedException" in body["detail"]


def test_the_first_failed_check_names_the_code_and_the_detail_lists_all(app: CaptureApp):
    app.table.failure = "AccessDeniedException"
    app.streams.failures[app.settings.events_stream_name] = "AccessDeniedException"
    body = app.request("GET", "/_health").json()
    assert body["code"] == "auth_unavailable"
    assert "api_keys_table" in body["detail"]
    assert "events_stream" in body["detail"]


def test_a_stream_not_yet_active_fails_with_its_state(app: CaptureApp):
    app.streams.states[app.settings.events_stream_name] = "CREATING"
    body = app.request("GET", "/_health").json()
    assert (body["code"], body["attr"]) == ("sink_unavailable", "events_stream")
    assert "CREATING" in body["detail"]


def test_a_table_being_updated_still_serves_reads(app: CaptureApp):
    app.table.status = "UPDATING"
    assert app.request("GET", "/_health").status == 200


def health_over(table: Any, streams: Any, clock: Clock) -> Health:
    return Health({"dynamodb": table, "firehose": streams}.__getitem__, stack_checks(SETTINGS), clock=clock)


def test_describes_each_resource_once_per_cache_period():
    table, streams, clock = FakeKeyTable(), FakeStreams(), Clock()
    health = health_over(table, streams, clock)
    for _ in range(5):
        health.check()
        clock.now += CACHE_SECONDS / 10
    assert (table.describe_calls, streams.describe_calls) == (1, 2)


def test_asks_again_once_the_cache_expires():
    table, streams, clock = FakeKeyTable(), FakeStreams(), Clock()
    health = health_over(table, streams, clock)
    health.check()
    clock.now += CACHE_SECONDS
    streams.failures[SETTINGS.events_stream_name] = "ResourceNotFoundException"
    assert health.report()["events_stream"] == "ResourceNotFoundException"
    assert table.describe_calls == 2


def test_a_connection_error_is_a_failed_check():
    class Unreachable:
        def describe_delivery_stream(self, DeliveryStreamName: str) -> dict[str, Any]:
            raise EndpointConnectionError(endpoint_url="https://firehose.example")

    report = health_over(FakeKeyTable(), Unreachable(), Clock()).report()
    assert report["events_stream"] == "EndpointConnectionError"
    assert report["api_keys_table"] == "ok"


def test_clients_are_made_on_first_check_only():
    made: list[str] = []

    def client(service: str) -> Any:
        made.append(service)
        return {"dynamodb": FakeKeyTable(), "firehose": FakeStreams()}[service]

    health = Health(client, stack_checks(SETTINGS), clock=Clock())
    assert made == []
    health.check()
    health.report()
    assert made == ["dynamodb", "firehose"]
