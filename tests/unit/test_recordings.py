"""docs/protocol.md §12: session recordings on /s/ — validation, a stream of their own, the
project's setting."""

from __future__ import annotations

import gzip
import json
from typing import Any

import pytest
from capture_core.auth.key_items import ProjectSettings, project_key_item
from capture_core.limits import FIREHOSE_MAX_RECORD_BYTES
from capture_core.observability import metrics
from support import recordings
from support.app import DEMO_TOKEN, CaptureApp


def snapshot(**properties: Any) -> dict[str, Any]:
    return {
        "event": "$snapshot",
        "properties": {
            "$snapshot_data": [{"type": 2, "data": {"node": {}}, "timestamp": 1_777_000_000_000}],
            "$session_id": "0193a1b2-aaaa-7000-8000-000000000001",
            "$window_id": "0193a1b2-bbbb-7000-8000-000000000001",
            "$snapshot_bytes": 60,
            "distinct_id": "u1",
            "token": DEMO_TOKEN,
            **properties,
        },
    }


def recording_app(on: bool = True) -> CaptureApp:
    app = CaptureApp()
    app.table.items[DEMO_TOKEN] = project_key_item(
        DEMO_TOKEN, 1, "test", ProjectSettings(session_recording=on)
    )
    return app


def post(app: CaptureApp, *events: dict[str, Any], path: str = "/s/") -> Any:
    body = gzip.compress(json.dumps(list(events)).encode())
    return app.request(
        "POST", path, body, headers={"Content-Type": "text/plain"}, query="compression=gzip-js"
    )


def test_snapshots_go_to_the_recordings_stream_as_stored_events():
    app = recording_app()
    answer = post(app, snapshot(), snapshot())
    assert (answer.status, answer.json()) == (200, {"status": 1})
    stored = app.stored_recordings()
    assert len(stored) == 2
    assert app.stored() == []  # not among the events
    assert stored[0]["properties"]["$snapshot_data"] == snapshot()["properties"]["$snapshot_data"]
    assert (stored[0]["event"], stored[0]["distinct_id"], stored[0]["project_id"]) == ("$snapshot", "u1", 1)
    assert {"uuid", "token", "ip", "now", "timestamp"} <= stored[0].keys()


@pytest.mark.parametrize(
    ("properties", "attr"),
    [
        ({"$session_id": None}, "[0].properties.$session_id"),
        ({"$session_id": "x" * 71}, "[0].properties.$session_id"),
        ({"$session_id": "has spaces"}, "[0].properties.$session_id"),
        ({"$session_id": 12}, "[0].properties.$session_id"),
        ({"$snapshot_data": "text"}, "[0].properties.$snapshot_data"),
        ({"$snapshot_data": None}, "[0].properties.$snapshot_data"),
    ],
)
def test_a_recording_without_its_session_or_data_is_400_naming_it(properties: dict[str, Any], attr: str):
    app = recording_app()
    answer = post(app, snapshot(**properties))
    assert (answer.status, answer.json()["code"], answer.json()["attr"]) == (400, "invalid_payload", attr)
    assert app.stored_recordings() == []


def test_a_recording_without_a_distinct_id_is_400():
    app = recording_app()
    answer = post(app, snapshot(distinct_id=None))
    assert (answer.status, answer.json()["attr"]) == (400, "[0].distinct_id")


def test_a_project_with_recording_off_gets_200_and_nothing_is_stored():
    """As PostHog's capture answers: a browser may hold a config from before recording was
    turned off, and a refusal would be a red network error on every such page."""
    app = recording_app(on=False)
    metrics.metric_set.clear()
    answer = post(app, snapshot(), snapshot())
    assert (answer.status, answer.json()) == (200, {"status": 1})
    assert app.stored_recordings() == []
    assert sum(metrics.metric_set["RecordingEventsIgnored"]["Value"]) == 2
    metrics.metric_set.clear()


def test_events_that_are_not_snapshots_are_refused_naming_them():
    app = recording_app()
    answer = post(app, snapshot(), {**snapshot(), "event": "$pageview"})
    assert (answer.status, answer.json()["code"], answer.json()["attr"]) == (
        400,
        "invalid_payload",
        "[1].event",
    )
    assert app.stored_recordings() == []


def test_an_unknown_key_is_401():
    app = recording_app()
    answer = post(app, snapshot(token="phc_unknown"))
    assert (answer.status, answer.json()["code"]) == (401, "invalid_api_key")


def test_beacons_get_204():
    app = recording_app()
    body = gzip.compress(json.dumps([snapshot()]).encode())
    assert app.request("POST", "/s/", body, query="beacon=1").status == 204


def test_the_config_names_the_endpoint_when_recording_is_on():
    on = recording_app().request("GET", f"/array/{DEMO_TOKEN}/config").json()["sessionRecording"]
    assert on["endpoint"] == "/s/"
    off = recording_app(on=False).request("GET", f"/array/{DEMO_TOKEN}/config").json()["sessionRecording"]
    assert off is False


def test_the_config_carries_the_sample_rate_and_minimum_duration():
    app = CaptureApp()
    settings = ProjectSettings(
        session_recording=True, recording_sample_rate=0.25, recording_min_duration_ms=2000
    )
    app.table.items[DEMO_TOKEN] = project_key_item(DEMO_TOKEN, 1, "test", settings)
    recording = app.request("GET", f"/array/{DEMO_TOKEN}/config").json()["sessionRecording"]
    assert (recording["sampleRate"], recording["minimumDurationMilliseconds"]) == ("0.25", 2000)


@pytest.mark.parametrize("characters", [500_000, 900_000, 2_500_000])
def test_a_snapshot_as_posthog_js_sends_it_is_stored_whole_whatever_its_size_once_encoded(characters: int):
    """posthog-js counts a compressed snapshot in UTF-16 code units; stored as UTF-8 JSON it is
    about twice as large, past a Firehose record: no size rule refuses it or the request's other
    events (where its line goes is the sink's: test_sink.py, and test_direct_path.py end to end)."""
    app = recording_app()
    compressed, data = recordings.compressed_full_snapshot(characters, marker="heavy page")
    big = recordings.snapshot_event(DEMO_TOKEN, "0193a1b2-cccc-7000-8000-000000000001", compressed)
    small = snapshot()
    body = recordings.request_body([small, big, small])
    answer = app.request("POST", "/s/", body, headers={"Content-Type": "text/plain"})
    assert (answer.status, answer.json()) == (200, {"status": 1})
    stored = app.stored_recordings()
    assert len(stored) == 3  # the others of the request are stored too
    (kept,) = [
        event
        for event in stored
        if event["properties"]["$session_id"].endswith("cccc-7000-8000-000000000001")
    ]
    (rrweb,) = kept["properties"]["$snapshot_data"]
    assert rrweb["data"] == compressed
    assert recordings.decompressed(rrweb) == data
    assert len(json.dumps(kept, ensure_ascii=False).encode()) > FIREHOSE_MAX_RECORD_BYTES


def test_an_analytics_event_keeps_its_limit_of_one_firehose_record():
    app = recording_app()
    compressed, _ = recordings.compressed_full_snapshot(500_000)
    event = {"event": "big", "distinct_id": "u1", "token": DEMO_TOKEN, "properties": {"blob": compressed}}
    answer = app.request(
        "POST", "/e/", recordings.request_body([event]), headers={"Content-Type": "text/plain"}
    )
    assert (answer.status, answer.json()["code"], answer.json()["attr"]) == (413, "event_too_large", "[0]")
    assert app.stored() == []
