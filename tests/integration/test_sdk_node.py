"""posthog-node (npm), unmodified, against the local stack: capture, identify, alias, group identify,
flush and shutdown, with its default gzip bodies and with compression off, through capture v0
(`/batch/`, its default) and capture v1 (`POSTHOG_CAPTURE_MODE=v1`, docs/protocol.md §11). Every
event it sends is stored exactly once, as sent, and the SDK reports no error or warning. The driver is
tests/sdk/js/node_client.mjs."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from capture_local import LocalStack, Recorder
from support.exchanges import header, path, sent_events
from support.js_sdk import assert_stored_once_as_sent, require_js_sdks, running_driver
from support.quotas import quota_project, within_quota

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]

DRIVER_TIMEOUT_S = 30


@pytest.fixture(autouse=True)
def _sdks() -> None:
    require_js_sdks()


def node_client(stack: LocalStack, token: str, distinct_id: str, *flags: str, mode: str = "v0") -> Any:
    return running_driver(
        "node_client.mjs",
        *("--host", stack.api_url, "--token", token, "--distinct-id", distinct_id, "--timeout-ms", "10000"),
        *flags,
        timeout=DRIVER_TIMEOUT_S,
        environment={"POSTHOG_CAPTURE_MODE": mode},
    )


def answers(mode: str, batch: list[dict[str, Any]]) -> Any:
    """What each flush's request is answered: v0's all-or-nothing, v1's result per event."""
    if mode == "v0":
        return {"status": 1}
    return {"results": {event["uuid"]: {"result": "ok"} for event in batch}}


@pytest.mark.parametrize("mode", ["v0", "v1"])
@pytest.mark.parametrize("compression", ["gzip", "json"])
def test_every_event_posthog_node_sends_is_stored_once_as_sent(
    local_stack: LocalStack, wire: Recorder, compression: str, mode: str
):
    user = f"node-{uuid.uuid4()}"
    flags = ["--disable-compression"] if compression == "json" else []
    with node_client(local_stack, local_stack.token, user, *flags, mode=mode) as report:
        pass

    assert (report["error"], report["errors"]) == (None, [])
    assert [log for log in report["logs"] if log["level"] in {"warn", "error"}] == []
    sent = report["flushed"]
    # Every event it queued was flushed (alias emits no "capture" of its own).
    assert {event["uuid"] for event in report["queued"]} <= {event["uuid"] for event in sent}
    assert [(event["event"], event["distinct_id"]) for event in sent] == [
        ("node signed up", user),
        ("$identify", user),
        ("$create_alias", user),
        ("$groupidentify", user),
        ("node upgraded", user),
    ]

    # On the wire: flush() and shutdown() each posted one batch, answered 200.
    posts = [exchange for exchange in wire.exchanges if exchange.method == "POST"]
    route = "/batch/" if mode == "v0" else "/i/v1/analytics/events"
    assert [(path(post), post.status, json.loads(post.response_body)) for post in posts] == [
        (route, 200, answers(mode, sent[:4])),
        (route, 200, answers(mode, sent[4:])),
    ]
    assert {header(post, "Content-Type") for post in posts} == {"application/json"}
    assert {header(post, "Content-Encoding") for post in posts} == {"gzip" if compression == "gzip" else None}
    assert all(post.body.startswith(b"\x1f\x8b") == (compression == "gzip") for post in posts)
    assert [event["uuid"] for _, event in sent_events(posts)] == [event["uuid"] for event in sent]

    stored = assert_stored_once_as_sent(local_stack, sent)
    by_name = {event["event"]: event for event in stored.values()}
    signed_up, identify, upgraded = by_name["node signed up"], by_name["$identify"], by_name["node upgraded"]
    assert {"plan": "pro", "seats": 3, "compression": compression}.items() <= signed_up["properties"].items()
    assert {"plan": "enterprise", "compression": compression}.items() <= upgraded["properties"].items()
    assert identify["$set"] == {"email": f"{user}@example.com"}
    assert identify["$set_once"] == {"first_seen_by": "posthog-node"}
    assert by_name["$create_alias"]["properties"]["alias"] == f"{user}-alias"
    group = by_name["$groupidentify"]["properties"]
    assert (group["$group_type"], group["$group_key"], group["$group_set"]) == (
        "company", f"acme-{user}", {"name": "Acme"}
    )  # fmt: skip
    assert {(event["lib"], event["lib_version"]) for event in stored.values()} == {
        ("posthog-node", report["version"])
    }


def test_posthog_node_reports_a_rejected_key(local_stack: LocalStack):
    # The harness's "no error" above means something: a 401 does reach the SDK's error hook.
    with node_client(local_stack, "phc_unknown", f"node-{uuid.uuid4()}") as report:
        pass

    assert report["errors"], "posthog-node reported no error for an unknown key"
    assert {request["status"] for request in report["requests"]} == {401}
    assert {json.loads(request["body"])["code"] for request in report["requests"]} == {"invalid_api_key"}


def test_over_its_events_quota_a_project_stores_nothing_more_and_posthog_node_sees_no_error(
    local_stack: LocalStack, wire: Recorder
):
    """A quota of 50 events: posthog-node at its defaults sends 70 in steps of 10, each step once
    the one before was counted; exactly the first 50 are stored, and the SDK reports nothing."""
    token = quota_project(local_stack, events=50)
    arguments = ("--host", local_stack.api_url, "--token", token, "--distinct-id", f"node-{uuid.uuid4()}")
    # Each step waits for the counting (immediate locally) and the key cache (1 s) with room to spare.
    with running_driver(
        "node_steps.mjs", *arguments, "--steps", "7", "--pause-ms", "1500", timeout=60
    ) as report:
        pass
    assert report["error"] is None, report
    assert report["errors"] == []
    assert [log for log in report["logs"] if log["level"] in {"warn", "error"}] == []
    stored = {event["uuid"] for event in local_stack.read_events() if event["token"] == token}
    assert stored == {uuid for step in report["steps"][:5] for uuid in step}
    assert within_quota(wire.exchanges, 50)[0] == stored
    assert all(exchange.status == 200 for exchange in wire.exchanges)
