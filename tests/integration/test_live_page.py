"""The local stack's live events page (`/_local/events`): events appear as posthog-js sends them,
newest first, without a reload; a row expands to its stored JSON; filters narrow the list. Local
only: no route of the API lives under `/_local/`, and the template knows nothing of it."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
import uuid
from typing import Any

import pytest
from capture_local import LocalStack
from support.js_sdk import require_chromium, require_js_sdks, running_driver

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]


def get(stack: LocalStack, target: str) -> tuple[int, Any]:
    try:
        with urllib.request.urlopen(f"{stack.api_url}{target}", timeout=10) as answer:
            body = answer.read()
            kind = answer.headers["Content-Type"]
            return answer.status, json.loads(body) if "json" in kind else body.decode()
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def send(stack: LocalStack, event: str, distinct_id: str) -> None:
    body = json.dumps({"api_key": stack.token, "event": event, "distinct_id": distinct_id}).encode()
    urllib.request.urlopen(
        urllib.request.Request(f"{stack.api_url}/capture/", body, method="POST"), timeout=10
    )


def test_the_page_lists_the_newest_stored_lines_filtered_and_gives_each_whole(local_stack: LocalStack):
    status, page = get(local_stack, "/_local/events")
    assert status == 200
    assert "<title>Live events" in page
    name, who = f"live-{uuid.uuid4()}", f"user-{uuid.uuid4()}"
    send(local_stack, f"{name}-first", who)
    send(local_stack, f"{name}-second", who)
    status, listing = get(local_stack, f"/_local/api/stored?distinct_id={who}")
    assert status == 200
    assert [line["event"] for line in listing["listed"]] == [f"{name}-second", f"{name}-first"]
    assert listing["total"] >= 2
    status, stored = get(local_stack, f"/_local/api/line?id={urllib.parse.quote(listing['listed'][0]['id'])}")
    assert (status, stored["event"], stored["distinct_id"]) == (200, f"{name}-second", who)
    assert get(local_stack, "/_local/api/line?id=nothing%230")[0] == 404
    _, by_event = get(local_stack, f"/_local/api/stored?event={name}-first")
    assert [line["distinct_id"] for line in by_event["listed"]] == [who]
    _, queries = get(local_stack, "/_local/api/queries")
    assert "Top events (today)" in {query["name"] for query in queries}


def test_the_page_uses_nothing_from_elsewhere():
    from capture_local.live import PAGE

    text = PAGE.decode()
    assert "src=" not in text
    assert "href=" not in text
    assert "//" not in text.replace("://", "").split("<script>")[0]


def test_events_posthog_js_sends_appear_without_a_reload_and_expand_to_their_stored_json(
    local_stack: LocalStack,
):
    require_js_sdks()
    require_chromium()
    name, who = f"live-{uuid.uuid4()}", f"shopper-{uuid.uuid4()}"
    arguments = (
        "--api-host",
        local_stack.api_url,
        "--token",
        local_stack.token,
        "--event",
        name,
        "--distinct-id",
        who,
    )
    with running_driver("browser_live.mjs", *arguments, timeout=90) as report:
        pass
    assert report["error"] is None, report["error"]
    assert report["shown"] is True
    assert report["reloaded"] is False
    assert (report["stored"]["event"], report["stored"]["distinct_id"]) == (name, who)
    assert report["stored"]["properties"]["color"] == "red"
    assert report["filtered"]
    assert all(who in cell for cell in report["filtered"])
