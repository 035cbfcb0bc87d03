"""End to end through the local stack: HTTP in, events read back from the bucket Firehose fills."""

from __future__ import annotations

import gzip
import http.client
import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import pytest
from capture_local import DEMO_PROJECT_ID, LocalStack
from capture_local.cli import main

pytestmark = pytest.mark.integration


@dataclass
class Reply:
    status: int
    headers: http.client.HTTPMessage
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def connect(stack: LocalStack) -> http.client.HTTPConnection:
    address = urlsplit(stack.api_url)
    return http.client.HTTPConnection(address.hostname or "", address.port, timeout=30)


def send(
    connection: http.client.HTTPConnection,
    method: str,
    target: str,
    body: bytes | None = None,
    headers: Mapping[str, str] | None = None,
) -> Reply:
    connection.request(method, target, body=body, headers=dict(headers or {}))
    response = connection.getresponse()
    return Reply(response.status, response.headers, response.read())


def request(
    stack: LocalStack,
    method: str,
    target: str,
    body: bytes | None = None,
    headers: Mapping[str, str] | None = None,
) -> Reply:
    connection = connect(stack)
    try:
        return send(connection, method, target, body, headers)
    finally:
        connection.close()


def stored_for(stack: LocalStack, distinct_id: str) -> list[dict[str, Any]]:
    return [event for event in stack.read_events() if event.get("distinct_id") == distinct_id]


def unique_id() -> str:
    return f"user-{uuid.uuid4()}"


def event_body(stack: LocalStack, distinct_id: str, **fields: Any) -> bytes:
    return json.dumps(
        {"api_key": stack.token, "event": "clicked", "distinct_id": distinct_id, **fields}
    ).encode()


# Raw HTTP


def test_a_captured_event_is_stored_with_server_fields(local_stack: LocalStack):
    user = unique_id()
    reply = request(
        local_stack, "POST", "/capture/", event_body(local_stack, user), {"Content-Type": "application/json"}
    )

    assert (reply.status, reply.json()) == (200, {"status": 1})
    assert reply.headers["Content-Type"].startswith("application/json")
    (stored,) = stored_for(local_stack, user)
    assert stored["event"] == "clicked"
    assert uuid.UUID(stored["uuid"])
    assert stored["timestamp"]
    assert stored["project_id"] == DEMO_PROJECT_ID
    assert stored["ip"] == "127.0.0.1"


def test_an_unknown_key_is_a_401_json_error(local_stack: LocalStack):
    body = json.dumps({"api_key": "phc_unknown", "event": "x", "distinct_id": "u"}).encode()
    reply = request(local_stack, "POST", "/capture/", body, {"Origin": "https://app.example"})

    assert reply.status == 401
    assert reply.json()["type"] == "authentication_error"
    assert reply.json()["code"] == "invalid_api_key"
    assert reply.headers["Access-Control-Allow-Origin"] == "https://app.example"


def test_a_gzip_body_sent_as_text_plain_arrives_intact(local_stack: LocalStack):
    user = unique_id()
    batch = [{"event": "$pageview", "distinct_id": user, "properties": {"token": local_stack.token}}]
    reply = request(
        local_stack,
        "POST",
        "/e/?compression=gzip-js&ver=1.2.3",
        gzip.compress(json.dumps(batch).encode()),
        {"Content-Type": "text/plain"},
    )

    assert (reply.status, reply.json()) == (200, {"status": 1})
    assert [event["event"] for event in stored_for(local_stack, user)] == ["$pageview"]


def test_a_batch_envelope_to_batch_stores_every_event(local_stack: LocalStack):
    user = unique_id()
    envelope = {
        "api_key": local_stack.token,
        "batch": [{"event": "one", "distinct_id": user}, {"event": "two", "distinct_id": user}],
    }
    reply = request(
        local_stack, "POST", "/batch/", json.dumps(envelope).encode(), {"Content-Type": "application/json"}
    )

    assert (reply.status, reply.json()) == (200, {"status": 1})
    assert sorted(event["event"] for event in stored_for(local_stack, user)) == ["one", "two"]


def test_unknown_paths_reach_the_function_and_get_its_404(local_stack: LocalStack):
    reply = request(local_stack, "POST", "/not/a/route", b"{}")

    assert reply.status == 404
    assert reply.json()["code"] == "not_found"


def test_one_connection_carries_several_requests(local_stack: LocalStack):
    user = unique_id()
    connection = connect(local_stack)
    try:
        replies = [send(connection, "POST", "/capture/", event_body(local_stack, user)) for _ in range(3)]
    finally:
        connection.close()

    assert [reply.status for reply in replies] == [200, 200, 200]
    assert len(stored_for(local_stack, user)) == 3


def test_a_chunked_body_is_read_whole(local_stack: LocalStack):
    user = unique_id()
    connection = connect(local_stack)
    try:
        connection.request(
            "POST", "/capture/", body=iter([event_body(local_stack, user)]), encode_chunked=True
        )
        response = connection.getresponse()
        status = response.status
        response.read()
    finally:
        connection.close()

    assert status == 200
    assert len(stored_for(local_stack, user)) == 1


def test_a_body_over_api_gateways_10_mb_is_refused_before_it_is_read(local_stack: LocalStack):
    connection = connect(local_stack)
    try:
        connection.putrequest("POST", "/batch/")
        connection.putheader("Content-Length", str(10 * 1024 * 1024 + 1))
        connection.endheaders()
        response = connection.getresponse()
        body = json.loads(response.read())
    finally:
        connection.close()

    assert response.status == 413
    assert (body["type"], body["code"], body["attr"]) == ("validation_error", "request_too_large", None)


def test_the_events_command_prints_the_stored_lines(
    local_stack: LocalStack, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
):
    user = unique_id()
    request(local_stack, "POST", "/capture/", event_body(local_stack, user))
    monkeypatch.setenv("MOTO_PORT", str(local_stack.moto_port))

    assert main(["events"]) == 0
    # The functions run in this process: their metric lines are in the captured output too.
    printed = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [event["event"] for event in printed if event.get("distinct_id") == user] == ["clicked"]
