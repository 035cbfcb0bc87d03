"""posthog-node (npm), unmodified, against the local stack: capture, identify, flush and shutdown, with
its default gzip bodies and with compression off. Every event it sends is stored exactly once, as
sent, and the SDK reports no error. The driver is tests/sdk/js/node_client.mjs."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from capture_local import LocalStack, Recorder
from support.exchanges import header, path, sent_events
from support.js_sdk import assert_stored_once_as_sent, require_js_sdks, running_driver

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]

DRIVER_TIMEOUT_S = 30


@pytest.fixture(autouse=True)
def _sdks() -> None:
    require_js_sdks()


def node_client(stack: LocalStack, token: str, distinct_id: str, *flags: str) -> Any:
    return running_driver(
        "node_client.mjs",
        *("--host", stack.api_url, "--token", token, "--distinct-id", distinct_id, "--timeout-ms", "10000"),
        *flags,
        timeout=DRIVER_TIMEOUT_S,
    )


@pytest.mark.parametrize("compression", ["gzip", "json"])
def test_every_event_posthog_node_sends_is_stored_once_as_sent(
    local_stack: LocalStack, wire: Recorder, compression: str
):
    user = f"node-{uuid.uuid4()}"
    flags = ["--disable-compression"] if compression == "json" else []
    with node_client(local_stack, local_stack.token, user, *flags) as report:
        pass

    assert (report["error"], report["errors"]) == (None, [])
    assert [log for log in report["logs"] if log["level"] in {"warn", "error"}] == []
    sent = report["flushed"]
    assert [event["uuid"] for event in sent] == [event["uuid"] for event in report["queued"]]
    assert [(event["event"], event["distinct_id"]) for event in sent] == [
        ("node signed up", user),
        ("$identify", user),
        ("node upgraded", user),
    ]

    # On the wire: flush() and shutdown() each posted one batch envelope to /batch/, answered 200.
    posts = [exchange for exchange in wire.exchanges if exchange.method == "POST"]
    assert [(path(post), post.status, json.loads(post.response_body)) for post in posts] == [
        ("/batch/", 200, {"status": 1}),
        ("/batch/", 200, {"status": 1}),
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
