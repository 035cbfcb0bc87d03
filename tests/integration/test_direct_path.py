"""The direct path end to end, on the local stack: what Firehose cannot take (a recording over its
1,000 KiB record; everything while Firehose throttles or fails) is written by the functions to the
bucket, under the stream's prefix, and read back by `make recordings` and `make query` as Firehose's
objects are. Only when S3 fails too is the answer 503 (docs/protocol.md §7, §9, §12)."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any
from urllib.error import HTTPError
from urllib.request import Request, urlopen

import pytest
from capture_admin import query
from capture_admin.store import KeyAdmin
from capture_core.auth.key_items import ProjectSettings
from capture_core.limits import FIREHOSE_MAX_RECORD_BYTES
from capture_local import LocalStack, names
from capture_local.cli import main
from posthog import Posthog
from support import recordings
from support.js_sdk import require_js_sdks, running_driver

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]

_projects = iter(range(950, 1000))


def recorded_project(stack: LocalStack) -> str:
    admin = KeyAdmin(stack.client("dynamodb"), names.TABLE_NAME)
    return admin.create_project(next(_projects), "recorded", ProjectSettings(session_recording=True))


def post(
    stack: LocalStack, path: str, body: bytes, content_type: str = "text/plain"
) -> tuple[int, dict[str, str], Any]:
    request = Request(f"{stack.api_url}{path}", body, {"Content-Type": content_type})
    try:
        with urlopen(request, timeout=60) as reply:
            return reply.status, dict(reply.headers), json.loads(reply.read())
    except HTTPError as error:
        return error.code, dict(error.headers), json.loads(error.read())


def object_keys(stack: LocalStack, prefix: str) -> set[str]:
    stream = stack.resources.stream(
        names.RECORDINGS_STREAM_ID if prefix == "recordings/" else names.EVENTS_STREAM_ID
    )
    pages = (
        stack.client("s3").get_paginator("list_objects_v2").paginate(Bucket=stream.bucket_name, Prefix=prefix)
    )
    return {entry["Key"] for page in pages for entry in page.get("Contents", [])}


def direct_objects(stack: LocalStack, prefix: str = "events/") -> set[str]:
    """The objects the direct path wrote (Firehose's are never named `direct-`)."""
    return {key for key in object_keys(stack, prefix) if "/direct-" in key}


def query_uuids(stack: LocalStack, tmp_path: Path, uuids: set[str]) -> set[str]:
    """The uuids among these that `make query` finds in the events table."""
    listed = ", ".join(f"'{value}'" for value in sorted(uuids))
    session = query.local_session(tmp_path, stack.moto_url)
    return {row[0] for row in session.sql(f"SELECT uuid FROM events WHERE uuid IN ({listed})").fetchall()}


def test_a_snapshot_of_two_and_a_half_million_characters_is_stored_and_read_back_whole(
    local_stack: LocalStack, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
):
    token, session = recorded_project(local_stack), str(uuid.uuid4())
    compressed, data = recordings.compressed_full_snapshot(2_500_000, marker=session)
    event = recordings.snapshot_event(token, session, compressed)
    body = recordings.request_body([event])
    assert len(body) < 4_500_000  # within what API Gateway hands Lambda, as posthog-js sends it
    before = object_keys(local_stack, "recordings/")

    status, _, answer = post(local_stack, "/s/", body)
    assert (status, answer) == (200, {"status": 1})

    (written,) = object_keys(local_stack, "recordings/") - before
    assert written.startswith("recordings/year=")
    assert "/direct-" in written
    monkeypatch.setenv("MOTO_PORT", str(local_stack.moto_port))
    # The stored object is being counted, in this process: done first, it prints nothing meanwhile.
    local_stack.settle()
    capsys.readouterr()
    assert main(["recordings"]) == 0  # make recordings
    # Lines end at "\n" only: a latin-1 string holds U+0085, which str.splitlines() also splits at.
    printed = [json.loads(line) for line in capsys.readouterr().out.split("\n") if line]
    (mine,) = [line for line in printed if line["properties"].get("$session_id") == session]
    (rrweb,) = mine["properties"]["$snapshot_data"]
    assert rrweb["data"] == compressed
    assert recordings.decompressed(rrweb) == data
    assert len(json.dumps(mine, ensure_ascii=False).encode()) > 2 * FIREHOSE_MAX_RECORD_BYTES


def test_while_firehose_throttles_every_call_raw_events_are_answered_200_and_queried(
    local_stack: LocalStack, tmp_path: Path
):
    events = [
        {"event": "throttled", "distinct_id": f"u-{uuid.uuid4()}", "uuid": str(uuid.uuid4())}
        for _ in range(5)
    ]
    before = direct_objects(local_stack)
    with local_stack.faults.active(firehose="throttle"):
        for event in events:
            status, _, answer = post(
                local_stack, "/capture/", json.dumps({**event, "api_key": local_stack.token}).encode()
            )
            assert (status, answer) == (200, {"status": 1})
    assert len(direct_objects(local_stack) - before) == len(events)  # one object a request
    uuids = {event["uuid"] for event in events}
    assert query_uuids(local_stack, tmp_path, uuids) == uuids


@pytest.mark.parametrize("fault", ["throttle", "fail"])
def test_while_firehose_refuses_posthog_python_is_answered_200_and_every_event_is_queried(
    local_stack: LocalStack, tmp_path: Path, fault: str
):
    errors: list[str] = []
    posthog = Posthog(
        local_stack.token, host=local_stack.api_url, on_error=lambda e, b: errors.append(repr(e))
    )
    before = direct_objects(local_stack)
    with local_stack.faults.active(firehose=fault):
        try:
            uuids = {
                posthog.capture("python under a fault", distinct_id=f"py-{uuid.uuid4()}") for _ in range(20)
            }
            posthog.flush()
        finally:
            posthog.shutdown()
    assert errors == []
    assert None not in uuids
    assert direct_objects(local_stack) - before
    assert query_uuids(local_stack, tmp_path, uuids) == uuids


def test_while_firehose_throttles_posthog_node_is_answered_200_and_every_event_is_queried(
    local_stack: LocalStack, tmp_path: Path
):
    require_js_sdks()
    arguments = (
        "--host",
        local_stack.api_url,
        "--token",
        local_stack.token,
        "--distinct-id",
        f"node-{uuid.uuid4()}",
    )
    before = direct_objects(local_stack)
    with (
        local_stack.faults.active(firehose="throttle"),
        running_driver("node_client.mjs", *arguments, timeout=60) as report,
    ):
        pass
    assert (report["error"], report["errors"]) == (None, [])
    assert {request["status"] for request in report["requests"]} == {200}
    assert len(direct_objects(local_stack) - before) == len(report["requests"])
    uuids = {event["uuid"] for event in report["flushed"]}
    assert len(uuids) == 5
    assert query_uuids(local_stack, tmp_path, uuids) == uuids


def test_firehose_and_s3_both_failing_is_503_with_retry_after_and_nothing_stored(local_stack: LocalStack):
    event = {"event": "lost?", "distinct_id": f"u-{uuid.uuid4()}", "api_key": local_stack.token}
    before = object_keys(local_stack, "events/")
    with local_stack.faults.active(firehose="fail", s3="fail"):
        status, headers, answer = post(
            local_stack, "/batch/", json.dumps({"batch": [event]}).encode(), "application/json"
        )
    assert (status, answer["code"]) == (503, "sink_unavailable")
    assert int(headers["Retry-After"]) > 0
    assert object_keys(local_stack, "events/") == before
    assert [e for e in local_stack.read_events() if e["distinct_id"] == event["distinct_id"]] == []


def test_keys_in_two_casings_are_read_case_sensitively_as_athena_reads_them(
    local_stack: LocalStack, tmp_path: Path
):
    """A client's `Token` beside the stored `token`, and `Plan` beside `plan`: the columns read
    exactly their own keys, and both casings stay in the properties' JSON text."""
    user = f"u-{uuid.uuid4()}"
    event = {"event": "cased", "distinct_id": user, "Token": "client's own", "UUID": "not the uuid",
             "properties": {"Plan": "upper", "plan": "lower"}}  # fmt: skip
    status, _, _ = post(
        local_stack, "/capture/", json.dumps({**event, "api_key": local_stack.token}).encode()
    )
    assert status == 200
    session = query.local_session(tmp_path, local_stack.moto_url)
    ((token, uuid_value, upper, lower),) = session.sql(
        f"""SELECT token, uuid, json_extract_scalar(properties, '$["Plan"]'),
                   json_extract_scalar(properties, '$["plan"]')
            FROM events WHERE distinct_id = '{user}'"""
    ).fetchall()
    assert (token, upper, lower) == (local_stack.token, "upper", "lower")
    assert uuid.UUID(uuid_value)  # the stored uuid, not the client's "UUID"
