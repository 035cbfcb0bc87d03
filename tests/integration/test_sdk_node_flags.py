"""posthog-node at its default settings asks /flags (v=2) for every flag lookup: each gets "no
flags", the SDK prints nothing, and captures that send flags are stored (SPEC §10). The driver is
tests/sdk/js/node_flags.mjs."""

from __future__ import annotations

import uuid

import pytest
from capture_local import LocalStack
from support.js_sdk import require_js_sdks, running_driver

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]


def test_every_flag_lookup_answers_none_and_the_sdk_prints_nothing(local_stack: LocalStack):
    require_js_sdks()
    user = f"node-flags-{uuid.uuid4()}"
    arguments = ("--host", local_stack.api_url, "--token", local_stack.token, "--distinct-id", user)
    with running_driver("node_flags.mjs", *arguments, timeout=40) as report:
        pass
    # The SDK's own notices that the older flag calls are deprecated aside, it printed nothing.
    printed = [log for log in report["logs"] if "is deprecated" not in log["text"]]
    assert (report["error"], printed) == (None, [])
    assert report["answers"] == {
        "getFeatureFlag": None,
        "isFeatureEnabled": None,
        "getAllFlags": {},
        "evaluateFlags": {"enabled": False, "flag": None},
    }
    stored = {event["uuid"] for event in local_stack.read_events() if event["distinct_id"] == user}
    assert set(report["captured"]) <= stored
