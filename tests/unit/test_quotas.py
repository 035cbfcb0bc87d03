"""Quotas (per project, lane and UTC month): over one, each lane answers as PostHog does and stores
nothing of it; the counter's reading of delivered objects; the state a request reads with its key."""

from __future__ import annotations

import gzip
import io
import json
from datetime import UTC, datetime
from typing import Any

import pytest
from capture_core.auth.key_items import ProjectSettings, project_key_item
from capture_core.auth.quotas import EVENTS, RECORDINGS, QuotaState, month_of
from capture_core.usage.counter import count_lines, created_object, lines_of, static_prefix
from capture_core.usage.ledger import Usage, month_bounds, read_limit
from support.app import DEMO_TOKEN, CaptureApp, metric_totals, v1_headers

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
pytestmark = pytest.mark.usefixtures("fresh_metrics")
V1_HEADERS = v1_headers("2026-12-07T12:00:00.000Z")


def counted(name: str) -> float:
    return metric_totals().get(name, 0)


def app_over(*, events: str | None = None, recordings: str | None = None, now: datetime = NOW) -> CaptureApp:
    """The demo project, its key saying it is over quota in these months."""
    app = CaptureApp(clock=lambda: now)
    item = project_key_item(DEMO_TOKEN, 1, "test", ProjectSettings(session_recording=True))
    for lane, month in ((EVENTS, events), (RECORDINGS, recordings)):
        if month is not None:
            item[f"over_quota_{lane}"] = {"S": month}
    app.table.items[DEMO_TOKEN] = item
    return app


def batch(count: int) -> str:
    return json.dumps({"api_key": DEMO_TOKEN, "batch": [{"event": "e", "distinct_id": "u"}] * count})


def snapshots() -> str:
    properties = {"$snapshot_data": [{"type": 3, "data": {}}], "$session_id": "s-1", "distinct_id": "u"}
    return json.dumps([{"event": "$snapshot", "properties": {**properties, "token": DEMO_TOKEN}}])


def test_over_its_events_quota_v0_answers_200_and_stores_nothing():
    app = app_over(events="2026-12")
    answer = app.request("POST", "/batch/", batch(3))
    assert (answer.status, answer.json()) == (200, {"status": 1})
    assert app.stored() == []
    assert counted("EventsDroppedByQuota") == 3
    assert counted("EventsAccepted") == 0


def test_a_new_month_lifts_the_quota_without_anyone_acting():
    app = app_over(events="2026-11")
    assert app.request("POST", "/batch/", batch(2)).status == 200
    assert len(app.stored()) == 2


def test_the_events_quota_leaves_recordings_alone_and_the_recordings_quota_events():
    app = app_over(events="2026-12")
    assert app.request("POST", "/s/", snapshots(), headers={"Content-Type": "text/plain"}).json() == {
        "status": 1
    }
    assert len(app.stored_recordings()) == 1
    app = app_over(recordings="2026-12")
    app.request("POST", "/batch/", batch(1))
    assert len(app.stored()) == 1


def test_over_its_recordings_quota_s_answers_quota_limited_and_stores_nothing():
    app = app_over(recordings="2026-12")
    answer = app.request("POST", "/s/", snapshots(), headers={"Content-Type": "text/plain"})
    assert (answer.status, answer.json()) == (200, {"status": 1, "quota_limited": ["recordings"]})
    assert app.stored_recordings() == []
    assert counted("RecordingEventsDroppedByQuota") == 1


def test_over_its_recordings_quota_the_remote_config_turns_recording_off():
    assert app_over().request("GET", f"/array/{DEMO_TOKEN}/config").json()["sessionRecording"]
    config = app_over(recordings="2026-12").request("GET", f"/array/{DEMO_TOKEN}/config").json()
    assert config["sessionRecording"] is False
    flags = app_over(recordings="2026-12").request(
        "POST", "/flags/?v=2&config=true", json.dumps({"token": DEMO_TOKEN})
    )
    assert "quotaLimited" not in flags.json()


def test_capture_v1_drops_each_event_naming_the_quota():
    app = app_over(events="2026-12")
    uuids = [f"00000000-0000-4000-8000-00000000000{i}" for i in range(2)]
    events = [
        {"event": "e", "distinct_id": "u", "uuid": uuid, "timestamp": "2026-12-07T12:00:00.000Z"}
        for uuid in uuids
    ]
    answer = app.request(
        "POST",
        "/i/v1/analytics/events",
        json.dumps({"created_at": "2026-12-07T12:00:00.000Z", "batch": events}),
        headers=V1_HEADERS,
    )
    assert answer.status == 200
    dropped = {"result": "drop", "details": "quota_limited: events"}
    results = answer.json()["results"]
    assert (list(results), list(results.values())) == (uuids, [dropped, dropped])
    assert app.stored() == []


@pytest.mark.parametrize(
    "attribute",
    [{"S": "2026-13"}, {"S": "december"}, {"N": "202612"}, "2026-12", {"S": ["2026-12"]}],
)
def test_a_malformed_quota_state_stops_nothing(attribute: Any):
    assert QuotaState.from_item({"over_quota_events": attribute}).limits(EVENTS, NOW) is False


def test_a_quota_state_counts_in_the_month_it_names_only():
    state = QuotaState.from_item({"over_quota_events": {"S": "2026-12"}})
    assert state.limits(EVENTS, NOW)
    assert not state.limits(RECORDINGS, NOW)
    assert not state.limits(EVENTS, datetime(2027, 1, 1, tzinfo=UTC))
    assert month_of(datetime(2026, 12, 31, 23, 59, 59, tzinfo=UTC)) == "2026-12"
    assert month_bounds("2024-02") == (datetime(2024, 2, 1, tzinfo=UTC), datetime(2024, 3, 1, tzinfo=UTC))


@pytest.mark.parametrize(
    ("attribute", "limit"),
    [
        ({"N": "50"}, 50),
        ({"N": "0"}, 0),
        ({"N": "-1"}, None),
        ({"N": "1.5"}, None),
        ({"S": "50"}, None),
        (None, None),
    ],
)
def test_a_limit_is_a_whole_number_or_none(attribute: Any, limit: int | None):
    item = {} if attribute is None else {"quota_events": attribute}
    assert read_limit(item, EVENTS) == limit


def test_a_limit_of_zero_is_over_at_once_and_no_limit_never():
    usage = Usage(1, "2026-12", {EVENTS: 0, RECORDINGS: 5}, {EVENTS: 0, RECORDINGS: None}, {})
    assert usage.is_over(EVENTS)
    assert not usage.is_over(RECORDINGS)
    assert usage.share(RECORDINGS) is None


def test_delivered_objects_are_read_line_by_line_gzip_or_not_however_long_a_line():
    long_line = json.dumps({"project_id": 1, "properties": {"x": "y" * 3_000_000}}).encode()
    data = b"\n".join(
        [b'{"project_id": 1, "properties": {}}', long_line, b"", b'{"project_id": 2, "properties": {}}']
    )
    for body in (data, gzip.compress(data), gzip.compress(data[:100]) + gzip.compress(data[100:])):
        assert list(lines_of(io.BytesIO(body))) == [line for line in data.split(b"\n") if line]


def test_events_count_per_project_and_recordings_per_session():
    lines = [
        json.dumps({"project_id": 1, "properties": {"$session_id": "a"}}).encode(),
        json.dumps({"project_id": 1, "properties": {"$session_id": "a"}}).encode(),
        json.dumps({"project_id": 1, "properties": {"$session_id": "b"}}).encode(),
        json.dumps({"project_id": 2, "properties": {}}).encode(),
        b"not json",
        json.dumps({"project_id": True, "properties": {}}).encode(),
        json.dumps({"project_id": "1", "properties": {}}).encode(),
        json.dumps({"properties": {}}).encode(),
    ]
    events, unreadable = count_lines(lines, EVENTS)
    assert ({project: found.events for project, found in events.items()}, unreadable) == ({1: 3, 2: 1}, 4)
    recordings, _ = count_lines(lines, RECORDINGS)
    assert {project: found.sessions for project, found in recordings.items()} == {1: {"a", "b"}, 2: set()}


def test_the_counter_reads_s3s_eventbridge_event_and_decodes_a_key_s3_encoded():
    event = {
        "detail-type": "Object Created",
        "source": "aws.s3",
        "time": "2026-12-31T23:59:30Z",
        "detail": {"bucket": {"name": "b"}, "object": {"key": "events/year%3D2026/x.gz"}},
    }
    created = created_object(event)
    assert created is not None
    assert (created.bucket, created.key, month_of(created.when)) == ("b", "events/year=2026/x.gz", "2026-12")
    assert created_object({**event, "detail-type": "Object Deleted"}) is None
    assert created_object({"detail": "nothing"}) is None


def test_a_streams_objects_are_found_by_the_prefix_before_its_first_expression():
    assert static_prefix("events/year=!{timestamp:yyyy}/month=!{timestamp:MM}/") == "events/"
    assert static_prefix("recordings/") == "recordings/"
    assert static_prefix("a/b!{x}") == "a/"
