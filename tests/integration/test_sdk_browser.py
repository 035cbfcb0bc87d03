"""posthog-js (npm), unmodified, in headless Chromium (playwright-core, Debian's chromium), on a page
served from another origin than the API, so every request is cross-origin. Each scenario asserts
that every event posthog-js sent is stored exactly once, as sent, and that neither the browser nor
posthog-js reported an error (CORS errors included). The driver is tests/sdk/js/browser_client.mjs.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from capture_local import Exchange, LocalStack, Recorder
from support.exchanges import EVENT_PATHS, events, header, path, query, response_header, sent_events
from support.js_sdk import assert_stored_once_as_sent, require_chromium, require_js_sdks, running_driver

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]

DRIVER_TIMEOUT_S = 40
BEACON_TIMEOUT_S = 10
GZIP_MAGIC = b"\x1f\x8b"
# What posthog-js logs (with `debug`) or Chromium prints when a request fails or CORS blocks it.
FAILURE_TEXT = re.compile(r"CORS|Access-Control|blocked|Failed to|failed request|retry|ERR_", re.IGNORECASE)
EXPECTED_WARNINGS: set[str] = set()


@pytest.fixture(autouse=True)
def _browser() -> None:
    require_js_sdks()
    require_chromium()


def browser_client(stack: LocalStack, token: str, distinct_id: str, scenario: str) -> Any:
    return running_driver(
        "browser_client.mjs",
        *(
            "--api-host",
            stack.api_url,
            "--token",
            token,
            "--distinct-id",
            distinct_id,
            "--scenario",
            scenario,
        ),
        *("--timeout-ms", "10000"),
        timeout=DRIVER_TIMEOUT_S,
    )


def assert_no_browser_errors(report: dict[str, Any]) -> None:
    assert report["error"] is None
    assert report["page_errors"] == []
    assert report["request_errors"] == []
    problems = [
        message
        for message in report["console"]
        if message["type"] == "error"
        or FAILURE_TEXT.search(message["text"])
        or (message["type"] == "warning" and message["text"] not in EXPECTED_WARNINGS)
    ]
    assert problems == []
    assert report["requests"], "Chromium reported no request to the API"
    assert [(request["status"], request["failure"]) for request in report["requests"]] == [
        (200, None) for _ in report["requests"]
    ]


def assert_answered_cross_origin(exchanges: list[Exchange], origin: str) -> None:
    for exchange in exchanges:
        assert header(exchange, "Origin") == origin
        assert response_header(exchange, "Access-Control-Allow-Origin") == origin
        assert response_header(exchange, "Access-Control-Allow-Credentials") == "true"
    for post in capture_requests(exchanges):
        if post.method == "POST":
            assert (post.status, json.loads(post.response_body)) == (200, {"status": 1})
            # The remote config names /i/v0/e/ (docs/protocol.md §10); what posthog-js sends before it is
            # loaded goes to /e/.
            assert path(post) in {"/e/", "/i/v0/e/"}


def capture_requests(exchanges: list[Exchange]) -> list[Exchange]:
    """The exchanges with an event route; the others are posthog-js's remote config and flags
    requests, which assert_config_answered checks."""
    return [exchange for exchange in exchanges if path(exchange).rstrip("/") in EVENT_PATHS]


def assert_config_answered(exchanges: list[Exchange], token: str) -> None:
    """At default settings posthog-js asks for its project's remote config once per page load, as
    JSON and as the config.js script (and, when the config says there are flags, for flags): each
    answered 200."""
    others = [exchange for exchange in exchanges if exchange not in capture_requests(exchanges)]
    assert {(exchange.method, path(exchange)) for exchange in others if exchange.method != "OPTIONS"} <= {
        ("GET", f"/array/{token}/config"),
        ("GET", f"/array/{token}/config.js"),
        ("POST", "/flags/"),
    }
    assert [exchange.status for exchange in others if exchange.method != "OPTIONS"] == [
        200 for exchange in others if exchange.method != "OPTIONS"
    ]
    assert {f"/array/{token}/config", f"/array/{token}/config.js"} & {path(exchange) for exchange in others}


def wire_uuids(exchanges: list[Exchange]) -> list[str]:
    return sorted(event["uuid"] for _, event in sent_events(exchanges))


def assert_identified_session(report: dict[str, Any], stored: dict[str, dict[str, Any]], user: str) -> None:
    scenario = report["scenario"]
    run = f"{scenario}-{user}"
    by_name = {event["event"]: event for event in stored.values()}
    assert set(by_name) == {"$pageview", "browser clicked", "$identify", "browser purchased"}
    anonymous = by_name["$pageview"]["distinct_id"]
    assert anonymous != user
    assert by_name["browser clicked"]["distinct_id"] == anonymous
    assert {"item": "socks", "run": run}.items() <= by_name["browser clicked"]["properties"].items()
    identify = by_name["$identify"]
    assert identify["distinct_id"] == user
    assert identify["properties"]["$anon_distinct_id"] == anonymous
    assert identify["$set"] == {"email": f"{user}@example.com"}
    # posthog-js adds the $initial_* person properties (referrer, URL, ...) to $set_once.
    assert {"first_seen_in": scenario}.items() <= identify["$set_once"].items()
    purchased = by_name["browser purchased"]
    assert purchased["distinct_id"] == user
    assert {"amount": 3, "currency": "EUR", "run": run}.items() <= purchased["properties"].items()
    assert {event["lib"] for event in stored.values()} == {"web"}


def carried(uuids: set[str]) -> Callable[[list[Exchange]], bool]:
    def done(exchanges: list[Exchange]) -> bool:
        return uuids <= set(wire_uuids(exchanges))

    return done


def test_posthog_js_gzip_text_plain_batches_are_stored_once_as_sent(local_stack: LocalStack, wire: Recorder):
    user = f"web-{uuid.uuid4()}"
    with browser_client(local_stack, local_stack.token, user, "gzip") as report:
        exchanges = wire.exchanges

    assert_no_browser_errors(report)
    sent = report["sent"]
    assert wire_uuids(exchanges) == sorted(event["uuid"] for event in sent)
    # Gzip bodies labelled text/plain are "simple" requests: no preflight.
    posts = capture_requests(exchanges)
    assert {exchange.method for exchange in posts} == {"POST"}
    assert {header(post, "Content-Type") for post in posts} == {"text/plain"}
    assert all(post.body.startswith(GZIP_MAGIC) for post in posts)
    assert_answered_cross_origin(exchanges, report["page_origin"])
    assert_config_answered(exchanges, local_stack.token)

    stored = assert_stored_once_as_sent(local_stack, sent)
    assert_identified_session(report, stored, user)


def test_posthog_js_uncompressed_json_passes_the_cors_preflight_and_is_stored_once(
    local_stack: LocalStack, wire: Recorder
):
    user = f"web-{uuid.uuid4()}"
    with browser_client(local_stack, local_stack.token, user, "json") as report:
        exchanges = wire.exchanges

    assert_no_browser_errors(report)
    sent = report["sent"]
    assert wire_uuids(exchanges) == sorted(event["uuid"] for event in sent)
    # application/json is not a "simple" content type: Chromium asks first, and caches the answer.
    to_capture = capture_requests(exchanges)
    assert to_capture[0].method == "OPTIONS"
    preflights = [exchange for exchange in to_capture if exchange.method == "OPTIONS"]
    for preflight in preflights:
        assert path(preflight) in {"/e/", "/i/v0/e/"}
        assert header(preflight, "Access-Control-Request-Method") == "POST"
        assert header(preflight, "Access-Control-Request-Headers") == "content-type"
        assert 200 <= preflight.status < 300
        assert "POST" in (response_header(preflight, "Access-Control-Allow-Methods") or "")
        assert "content-type" in (response_header(preflight, "Access-Control-Allow-Headers") or "").lower()
    posts = [exchange for exchange in to_capture if exchange.method == "POST"]
    assert len(posts) + len(preflights) == len(to_capture)
    assert {header(post, "Content-Type") for post in posts} == {"application/json"}
    assert_answered_cross_origin(exchanges, report["page_origin"])
    assert_config_answered(exchanges, local_stack.token)

    stored = assert_stored_once_as_sent(local_stack, sent)
    assert_identified_session(report, stored, user)


@pytest.mark.parametrize(
    ("scenario", "content_type", "wanted_query"),
    [
        ("beacon", "text/plain", {}),
        ("beacon-base64", "application/x-www-form-urlencoded", {"compression": "base64"}),
    ],
    ids=["gzip", "base64"],
)
def test_posthog_js_beacon_on_page_unload_is_stored_once(
    local_stack: LocalStack, wire: Recorder, scenario: str, content_type: str, wanted_query: dict[str, str]
):
    user = f"web-{uuid.uuid4()}"
    with browser_client(local_stack, local_stack.token, user, scenario) as report:
        # A beacon outlives its page: Chromium stays open until the API has answered it.
        queued = {event["uuid"] for event in report["sent"] if event["event"] != "$pageview"}
        exchanges = wire.wait_for(carried(queued), BEACON_TIMEOUT_S)

    assert_no_browser_errors(report)
    sent = report["sent"]
    assert [event["event"] for event in sent] == [
        "$pageview",
        "browser clicked",
        "browser left",
        "$pageleave",
    ]
    assert wire_uuids(exchanges) == sorted(event["uuid"] for event in sent)
    # The queued events left in one request the page could not have made with fetch or XHR (those
    # are CORS-mode requests): navigator.sendBeacon's.
    (beacon,) = [
        post
        for post in capture_requests(exchanges)
        if post.method == "POST" and {e["uuid"] for e in events(post)} == queued
    ]
    assert header(beacon, "Sec-Fetch-Mode") == "no-cors"
    assert header(beacon, "Content-Type") == content_type
    assert query(beacon).items() >= wanted_query.items()
    assert beacon.body.startswith(GZIP_MAGIC) == (scenario == "beacon")
    assert_answered_cross_origin(exchanges, report["page_origin"])

    stored = assert_stored_once_as_sent(local_stack, sent)
    by_name = {event["event"]: event for event in stored.values()}
    anonymous = by_name["$pageview"]["distinct_id"]
    assert {event["distinct_id"] for event in stored.values()} == {anonymous}
    run = f"{scenario}-{user}"
    assert {"item": "socks", "run": run}.items() <= by_name["browser clicked"]["properties"].items()
    assert {"reason": "navigated away", "run": run}.items() <= by_name["browser left"]["properties"].items()


def test_posthog_js_reports_a_rejected_key(local_stack: LocalStack, wire: Recorder):
    # The "no error" checks above mean something: a 401 reaches posthog-js's on_request_error.
    with browser_client(local_stack, "phc_unknown", f"web-{uuid.uuid4()}", "gzip") as report:
        pass

    assert {error["statusCode"] for error in report["request_errors"]} == {401, 404}
    # Its remote config answers 404 (an unknown key), its events 401.
    assert {e.status for e in capture_requests(wire.exchanges) if e.method == "POST"} == {401}
    assert {exchange.status for exchange in wire.exchanges if "/config" in path(exchange)} <= {404}
