"""posthog-node at its default settings asks /flags (v=2) for every flag lookup: each gets "no
flags", the SDK prints nothing, and captures that send flags are stored (docs/protocol.md §10).
With a personal API key it polls `/flags/definitions` for local evaluation, and prints nothing
either. The driver is tests/sdk/js/node_flags.mjs."""

from __future__ import annotations

import uuid

import pytest
from capture_admin.store import KeyAdmin
from capture_local import LocalStack, names
from support.exchanges import path
from support.js_sdk import require_js_sdks, running_driver

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]


@pytest.mark.parametrize("personal_key", [False, True], ids=["default", "local-evaluation"])
def test_every_flag_lookup_answers_none_and_the_sdk_prints_nothing(
    local_stack: LocalStack, personal_key: bool
):
    require_js_sdks()
    user = f"node-flags-{uuid.uuid4()}"
    arguments = ["--host", local_stack.api_url, "--token", local_stack.token, "--distinct-id", user]
    if personal_key:
        admin = KeyAdmin(local_stack.client("dynamodb"), names.TABLE_NAME)
        arguments += ["--personal-api-key", admin.create_personal_key("node", [local_stack.project_id])]
    with local_stack.recording() as wire, running_driver("node_flags.mjs", *arguments, timeout=40) as report:
        pass
    polls = [exchange for exchange in wire.exchanges if path(exchange) == "/flags/definitions"]
    assert {exchange.status for exchange in polls} == ({200} if personal_key else set())
    assert {exchange.status for exchange in wire.exchanges} == {200}
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
