"""End to end through the local stack: HTTP in, events read back from the bucket Firehose fills."""

from __future__ import annotations

import gzip
import http.client
import json
import os
import re
import socket
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import pytest
from capture_admin.store import KeyAdmin
from capture_core.auth.key_items import ProjectSettings
from capture_core.limits import LAMBDA_MAX_EVENT_BYTES
from capture_core.settings import Settings
from capture_local import DEMO_PROJECT_ID, LocalStack, names
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


def test_events_land_where_firehose_puts_them_on_aws(local_stack: LocalStack):
    # The template's prefix evaluated at delivery time, gzip'd NDJSON named .gz (what Athena's
    # partition projection and `make query` read).
    user = unique_id()
    before = datetime.now(UTC)
    reply = request(local_stack, "POST", "/e/", event_body(local_stack, user), {"Content-Type": "text/plain"})
    assert reply.status == 200
    after = datetime.now(UTC)

    s3, stream = local_stack.client("s3"), local_stack.resources.stream()
    keys = [entry["Key"] for entry in s3.list_objects_v2(Bucket=stream.bucket_name)["Contents"]]
    # Firehose's names, and the direct path's (objects the functions wrote when Firehose could not).
    name = rf"({stream.name}-\d+|direct-{stream.name})-\d{{4}}(-\d\d){{5}}-[0-9a-f-]{{36}}\.gz"
    partitions = r"events/year=\d{4}/month=\d\d/day=\d\d/hour=\d\d/"
    assert [
        key for key in keys if key.startswith("events/") and not re.fullmatch(partitions + name, key)
    ] == []
    holding = []
    for key in keys:
        lines = gzip.decompress(s3.get_object(Bucket=stream.bucket_name, Key=key)["Body"].read()).splitlines()
        holding += [(key, line) for line in lines if user.encode() in line]
    ((key, line),) = holding
    folders = {f"events/year={t:%Y}/month={t:%m}/day={t:%d}/hour={t:%H}/" for t in (before, after)}
    assert key.rsplit("/", 1)[0] + "/" in folders
    assert json.loads(line)["distinct_id"] == user


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


@pytest.mark.parametrize("sent", [b"", b"x" * 1000], ids=["before its body", "mid-body"])
def test_a_client_that_drops_the_connection_is_not_invoked_for_and_leaves_no_traceback(
    local_stack: LocalStack, capfd: pytest.CaptureFixture[str], sent: bytes
):
    address = urlsplit(local_stack.api_url)
    with local_stack.recording() as wire:
        with socket.create_connection((address.hostname or "", address.port or 0)) as client:
            client.sendall(b"POST /batch/ HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n" + sent)
        (exchange,) = wire.wait_for(bool, 5)
        time.sleep(0.2)  # the answer's write to the closed connection fails after it is recorded

    assert (exchange.status, json.loads(exchange.response_body)["detail"]) == (400, "Malformed request body")
    assert "Traceback" not in capfd.readouterr().err


def test_a_client_that_expects_100_continue_gets_the_413_before_sending_its_body(local_stack: LocalStack):
    connection = connect(local_stack)
    try:
        connection.putrequest("POST", "/batch/")
        connection.putheader("Content-Length", str(10 * 1024 * 1024 + 1))
        connection.putheader("Expect", "100-continue")
        connection.endheaders()
        response = connection.getresponse()
        body = json.loads(response.read())
    finally:
        connection.close()

    assert (response.status, body["code"]) == (413, "request_too_large")


def test_a_client_that_expects_100_continue_is_told_to_send_its_body(local_stack: LocalStack):
    user = unique_id()
    body = event_body(local_stack, user)
    connection = connect(local_stack)
    try:
        connection.putrequest("POST", "/capture/")
        connection.putheader("Content-Length", str(len(body)))
        connection.putheader("Expect", "100-continue")
        connection.endheaders()
        assert connection.sock is not None
        assert connection.sock.recv(1024).startswith(b"HTTP/1.1 100 Continue")
        connection.send(body)
        response = connection.getresponse()
        response.read()
    finally:
        connection.close()

    assert response.status == 200
    assert len(stored_for(local_stack, user)) == 1


def test_a_body_whose_event_is_over_lambdas_6_mb_is_a_413_not_worth_retrying(local_stack: LocalStack):
    # Base64 makes 4.5 MB of body into 6 MB of event: API Gateway takes it, Lambda does not.
    body = b"x" * (LAMBDA_MAX_EVENT_BYTES // 4 * 3 + 1)
    reply = request(local_stack, "POST", "/batch/", body, {"Origin": "https://app.example"})

    assert (reply.status, reply.json()["code"]) == (413, "request_too_large")
    assert reply.headers["Access-Control-Allow-Origin"] == "https://app.example"
    assert reply.headers["Retry-After"] is None


@pytest.mark.parametrize("method", ["TRACE", "PROPFIND", "CONNECT"])
def test_a_method_api_gateway_refuses_gets_a_contract_error_with_cors(local_stack: LocalStack, method: str):
    reply = request(local_stack, method, "/capture/", None, {"Origin": "https://app.example"})

    assert (reply.status, reply.json()["type"]) == (400, "validation_error")
    assert reply.headers["Content-Type"] == "application/json"
    assert reply.headers["Access-Control-Allow-Origin"] == "https://app.example"


def test_the_process_environment_holds_none_of_the_functions_variables(
    local_stack: LocalStack, environment_before_stack: dict[str, str]
):
    for function in ("CaptureFunction", "BatchFunction"):
        variables = local_stack.environment(function)
        assert {name: os.environ.get(name) for name in variables} == {
            name: environment_before_stack.get(name) for name in variables
        }


def test_settings_read_in_the_test_process_are_the_defaults(local_stack: LocalStack):
    variables = set(local_stack.environment("CaptureFunction")) & set(Settings.descriptions())
    assert {"EVENTS_STREAM_NAME", "KEY_CACHE_TTL_SECONDS", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE"} <= variables
    # Read from this process's environment: the functions' variables are not in it.
    assert Settings.from_environment() == Settings()


def test_each_function_has_its_own_memory_size(local_stack: LocalStack):
    assert local_stack.environment("CaptureFunction")["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] == "512"
    assert local_stack.environment("BatchFunction")["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] == "1024"


def test_the_recording_holds_each_exchange_as_sent_and_answered(local_stack: LocalStack):
    body = event_body(local_stack, unique_id())
    with local_stack.recording() as recorder:
        request(local_stack, "POST", "/capture/?ver=1", body, {"X-Test": "1"})

    (exchange,) = recorder.exchanges
    assert (exchange.method, exchange.target, exchange.body, exchange.status) == (
        "POST", "/capture/?ver=1", body, 200,
    )  # fmt: skip
    assert ("X-Test", "1") in exchange.request_headers
    assert json.loads(exchange.response_body) == {"status": 1}


def test_the_events_command_prints_the_stored_lines(
    local_stack: LocalStack, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
):
    user = unique_id()
    request(local_stack, "POST", "/capture/", event_body(local_stack, user))
    monkeypatch.setenv("MOTO_PORT", str(local_stack.moto_port))

    assert main(["events"]) == 0
    printed = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [event["event"] for event in printed if event.get("distinct_id") == user] == ["clicked"]


def test_the_recordings_command_prints_the_stored_snapshots(
    local_stack: LocalStack, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
):
    admin = KeyAdmin(local_stack.client("dynamodb"), names.TABLE_NAME)
    token = admin.create_project(901, "recorded", ProjectSettings(session_recording=True))
    session = str(uuid.uuid4())
    snapshot = {
        "event": "$snapshot",
        "properties": {
            "$snapshot_data": [{"type": 4, "data": {"href": "http://example.com/"}, "timestamp": 1}],
            "$session_id": session,
            "$window_id": session,
            "distinct_id": unique_id(),
            "token": token,
        },
    }
    reply = request(
        local_stack, "POST", "/s/", json.dumps([snapshot]).encode(), {"Content-Type": "text/plain"}
    )
    assert (reply.status, reply.json()) == (200, {"status": 1})
    monkeypatch.setenv("MOTO_PORT", str(local_stack.moto_port))

    assert main(["recordings"]) == 0
    # Lines end at "\n" only: a recording's latin-1 snapshot data may hold U+0085, where
    # str.splitlines() also splits.
    printed = [json.loads(line) for line in capsys.readouterr().out.split("\n") if line]
    (mine,) = [event for event in printed if event["properties"].get("$session_id") == session]
    assert (mine["event"], mine["project_id"]) == ("$snapshot", 901)
    assert mine["properties"]["$snapshot_data"] == snapshot["properties"]["$snapshot_data"]
    assert main(["events"]) == 0
    assert session not in capsys.readouterr().out  # recordings are not events


def test_with_flood_protection_on_the_local_stack_answers_an_address_over_the_rate_429(
    local_stack: LocalStack,
):
    name = f"flood-{uuid.uuid4()}"
    body = json.dumps({"api_key": local_stack.token, "event": name, "distinct_id": "u"}).encode()
    with local_stack.flood_protection(FloodRateLimit="10", FloodRateWindowSeconds="60"):
        replies = [request(local_stack, "POST", "/capture/", body) for _ in range(11)]
    assert [reply.status for reply in replies] == [200] * 10 + [429]
    assert replies[-1].json()["code"] == "rate_limited"
    assert (replies[-1].headers["Retry-After"], replies[-1].headers["Access-Control-Allow-Origin"]) == (
        "60",
        "*",
    )
    assert len([event for event in local_stack.read_events() if event["event"] == name]) == 10
    assert request(local_stack, "POST", "/capture/", body).status == 200  # off again after the block
