"""docs/protocol.md §11: capture v1 — headers, whole-request errors, per-event results, v1's error format."""

from __future__ import annotations

import gzip
import json
import uuid
import zlib
from typing import Any

import brotli
import pytest
import zstandard
from support.app import DEMO_TOKEN, Answer, CaptureApp

REQUEST_ID = "0193a1b2-0000-7000-8000-00000000aaaa"
SENT = "2026-05-01T12:00:00.000Z"


def headers(**changes: str | None) -> dict[str, str]:
    base = {
        "Authorization": f"Bearer {DEMO_TOKEN}",
        "Content-Type": "application/json",
        "User-Agent": "posthog-python/7.91.1",
        "PostHog-Sdk-Info": "posthog-python/7.91.1",
        "PostHog-Attempt": "1",
        "PostHog-Request-Id": REQUEST_ID,
        "PostHog-Request-Timestamp": SENT,
    }
    for key, value in changes.items():
        name = key.replace("_", "-")
        if value is None:
            base.pop(name, None)
        else:
            base[name] = value
    return base


def event(**fields: Any) -> dict[str, Any]:
    return {"event": "e", "uuid": str(uuid.uuid4()), "distinct_id": "u", "timestamp": SENT, **fields}


def body(*events: dict[str, Any], **envelope: Any) -> bytes:
    return json.dumps({"created_at": SENT, "batch": list(events), **envelope}).encode()


def send(app: CaptureApp, payload: bytes, **header_changes: str | None) -> Answer:
    return app.request("POST", "/i/v1/analytics/events", payload, headers=headers(**header_changes))


@pytest.fixture
def app() -> CaptureApp:
    return CaptureApp()


def test_every_event_is_ok_and_stored_as_a_v0_event(app: CaptureApp):
    sent = event(session_id="s1", window_id="w1", options={"process_person_profile": False},
                 properties={"$set": {"plan": "pro"}, "n": 1})  # fmt: skip
    answer = send(app, body(sent))
    assert answer.status == 200
    assert answer.json() == {"results": {sent["uuid"]: {"result": "ok"}}}
    assert answer.headers["PostHog-Request-Id"] == REQUEST_ID
    (stored,) = app.stored()
    assert (stored["uuid"], stored["event"], stored["distinct_id"]) == (sent["uuid"], "e", "u")
    assert stored["$set"] == {"plan": "pro"}
    properties = stored["properties"]
    assert (properties["$session_id"], properties["$window_id"]) == ("s1", "w1")
    assert properties["$process_person_profile"] is False
    assert (stored["lib"], stored["lib_version"]) == ("posthog-python", "7.91.1")


def test_clock_skew_is_corrected_from_the_request_timestamp(app: CaptureApp):
    # The client's clock is an hour ahead: its events are an hour ahead too.
    ahead = {"PostHog-Request-Timestamp": "2026-05-01T13:00:00.000Z"}
    sent = event(timestamp="2026-05-01T12:59:59.000Z")
    send(app, body(sent), **{k.replace("-", "_"): v for k, v in ahead.items()})
    (stored,) = app.stored()
    now = stored["now"]
    assert stored["timestamp"] < now
    assert stored["client_timestamp"] == "2026-05-01T12:59:59.000Z"


def test_disable_skew_correction_keeps_the_clients_timestamp(app: CaptureApp):
    sent = event(timestamp="2020-01-01T00:00:00.000Z", options={"disable_skew_correction": True})
    send(app, body(sent))
    (stored,) = app.stored()
    assert stored["timestamp"] == "2020-01-01T00:00:00.000Z"
    assert stored["properties"]["$ignore_sent_at"] is True


@pytest.mark.parametrize(
    ("fields", "details"),
    [
        ({"event": ""}, "missing_event_name"),
        ({"event": "x" * 201}, "event_name_too_long"),
        ({"distinct_id": "  "}, "missing_distinct_id"),
        ({"distinct_id": "é" * 201}, "distinct_id_too_large"),
        ({"event": "注" * 201}, "event_name_too_long"),
        ({"timestamp": "yesterday"}, "invalid_event_timestamp"),
        ({"properties": [1]}, "malformed_event_properties"),
        ({"options": {"process_person_profile": "maybe"}}, "invalid_options"),
        ({"properties": {"x": "y" * 1_100_000}}, "event_too_big"),
    ],
)
def test_events_that_can_never_be_stored_are_dropped_alone(
    app: CaptureApp, fields: dict[str, Any], details: str
):
    good, bad = event(), event(**fields)
    answer = send(app, body(good, bad))
    assert answer.status == 200
    assert answer.json()["results"] == {
        good["uuid"]: {"result": "ok"},
        bad["uuid"]: {"result": "drop", "details": details},
    }
    assert [stored["uuid"] for stored in app.stored()] == [good["uuid"]]


def test_names_and_distinct_ids_are_counted_in_characters_not_bytes(app: CaptureApp):
    # 200 characters each, 600 and 400 bytes of UTF-8: within the limit, as PostHog counts.
    named = event(event="注" * 200, distinct_id="é" * 200)
    answer = send(app, body(named))
    assert answer.json()["results"] == {named["uuid"]: {"result": "ok"}}
    assert (app.stored()[0]["event"], app.stored()[0]["distinct_id"]) == ("注" * 200, "é" * 200)


@pytest.mark.parametrize(
    ("payload", "error"),
    [
        (body(), "empty_batch"),
        (body(event(), created_at="soon"), "invalid_batch"),
        (body(event(uuid="")), "missing_event_uuid"),
        (body(event(uuid="not-a-uuid")), "invalid_event_uuid"),
        (body(event(uuid=REQUEST_ID), event(uuid=REQUEST_ID.upper())), "duplicate_event_uuid"),
        (body(event(distinct_id=7)), "request_parsing_error"),
        (b"[1, 2]", "request_parsing_error"),
        (b"{nope", "request_parsing_error"),
        (b"", "empty_body"),
    ],
)
def test_whole_request_errors_are_400_in_v1s_format(app: CaptureApp, payload: bytes, error: str):
    answer = send(app, payload)
    assert answer.status == 400
    assert answer.json()["error"] == error
    assert answer.json()["error_description"]
    assert answer.headers["PostHog-Request-Id"] == REQUEST_ID
    assert app.stored() == []


def test_missing_headers_are_named_all_at_once(app: CaptureApp):
    answer = send(app, body(event()), PostHog_Attempt=None, User_Agent=None)
    assert (answer.status, answer.json()["error"]) == (400, "missing_required_headers")
    assert "PostHog-Attempt" in answer.json()["error_description"]
    assert "User-Agent" in answer.json()["error_description"]


@pytest.mark.parametrize(
    ("change", "status", "error"),
    [
        ({"Authorization": None}, 401, "missing_authorization"),
        ({"Authorization": f"Basic {DEMO_TOKEN}"}, 400, "invalid_header_value"),
        ({"Authorization": "Bearer phc_unknown"}, 401, "invalid_api_token"),
        ({"Authorization": "Bearer phx_personal"}, 401, "invalid_api_token"),
        ({"Authorization": "Bearer project#1"}, 401, "invalid_api_token"),
        ({"Content-Type": "text/plain"}, 415, "unsupported_content_type"),
        ({"Content-Encoding": "compress"}, 415, "unsupported_encoding"),
        ({"PostHog-Attempt": "0"}, 400, "invalid_header_value"),
        ({"PostHog-Request-Id": "42"}, 400, "invalid_header_value"),
        ({"PostHog-Request-Timestamp": "now"}, 400, "invalid_header_value"),
    ],
)
def test_header_errors(app: CaptureApp, change: dict[str, str | None], status: int, error: str):
    answer = send(app, body(event()), **{name.replace("-", "_"): value for name, value in change.items()})
    assert (answer.status, answer.json()["error"]) == (status, error)


def test_the_key_is_checked_before_the_body_is_read(app: CaptureApp):
    answer = send(app, b"\x1f\x8b garbage", Authorization="Bearer phc_unknown", Content_Encoding="gzip")
    assert (answer.status, answer.json()["error"]) == (401, "invalid_api_token")


@pytest.mark.parametrize(
    ("encoding", "compress"),
    [
        ("gzip", gzip.compress),
        ("deflate", zlib.compress),
        ("br", brotli.compress),
        ("zstd", lambda data: zstandard.ZstdCompressor().compress(data)),
    ],
)
def test_every_encoding_stores_the_same_events(app: CaptureApp, encoding: str, compress: Any):
    sent = event()
    answer = send(app, compress(body(sent)), Content_Encoding=encoding)
    assert answer.json() == {"results": {sent["uuid"]: {"result": "ok"}}}
    assert app.stored()[0]["uuid"] == sent["uuid"]


@pytest.mark.parametrize("encoding", ["gzip", "deflate", "br", "zstd"])
def test_bombs_in_every_encoding_are_413(app: CaptureApp, encoding: str):
    zeros = b"0" * (21 << 20)
    compress = {"gzip": gzip.compress, "deflate": zlib.compress, "br": brotli.compress,
                "zstd": zstandard.ZstdCompressor().compress}[encoding]  # fmt: skip
    answer = send(app, compress(zeros), Content_Encoding=encoding)
    assert (answer.status, answer.json()["error"]) == (413, "payload_too_large")


def test_garbage_in_an_encoding_is_a_decoding_error(app: CaptureApp):
    answer = send(app, b"not brotli at all", Content_Encoding="br")
    assert (answer.status, answer.json()["error"]) == (400, "request_decoding_error")


def test_historical_migration_is_stored(app: CaptureApp):
    send(app, body(event(), historical_migration=True))
    assert app.stored()[0]["historical_migration"] is True


def test_other_methods_get_405(app: CaptureApp):
    answer = app.request("GET", "/i/v1/analytics/events", headers=headers())
    assert (answer.status, answer.json()["error"]) == (405, "method_not_allowed")
