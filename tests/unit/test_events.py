"""docs/protocol.md §3 (body shapes), §4 (event rules) and §8 (the stored event)."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from capture_core.errors import InvalidPayload, NoData
from capture_core.events.batch import read_batch
from capture_core.events.lines import SizeRule, stored_lines
from capture_core.events.stored import STORED_FIELDS, Arrival

NOW = datetime(2026, 1, 2, 3, 4, 5, 678000, tzinfo=UTC)
ARRIVAL = Arrival(now=NOW, ip="203.0.113.9", project_id=7, token="phc_project")


def stored(
    payload: Any, path: str = "/capture", arrival: Arrival = ARRIVAL, query_sent_at: str | None = None
):
    batch = read_batch(payload, engage=path.rstrip("/") == "/engage", query_sent_at=query_sent_at)
    if batch.sent_at is not None or batch.historical_migration:
        arrival = Arrival(
            now=arrival.now,
            ip=arrival.ip,
            project_id=7,
            token="phc_project",
            sent_at=batch.sent_at,
            historical_migration=batch.historical_migration,
        )
    return [json.loads(line) for line in stored_lines(batch, arrival, SizeRule(1_024_000, 48 << 20))]


def one(**fields: Any) -> dict[str, Any]:
    return stored({"event": "e", "distinct_id": "u", **fields})[0]


def rejected(payload: Any, path: str = "/capture") -> InvalidPayload:
    with pytest.raises(InvalidPayload) as caught:
        stored(payload, path)
    return caught.value


# §3 shapes
def test_array_is_a_list_of_events():
    assert [
        e["event"] for e in stored([{"event": "a", "distinct_id": "u"}, {"event": "b", "distinct_id": "u"}])
    ] == [
        "a",
        "b",
    ]


def test_envelope_batch_with_sent_at_and_historical_migration():
    events = stored(
        {
            "batch": [{"event": "a", "distinct_id": "u"}],
            "sent_at": NOW.isoformat(),
            "historical_migration": True,
        }
    )
    assert events[0]["sent_at"] == "2026-01-02T03:04:05.678Z"
    assert events[0]["historical_migration"] is True


def test_object_without_event_on_engage_is_identify():
    event = stored({"$set": {"plan": "pro"}, "$distinct_id": "u9", "$token": "t"}, path="/engage/")[0]
    assert (event["event"], event["distinct_id"], event["$set"]) == ("$identify", "u9", {"plan": "pro"})


def test_object_without_event_elsewhere_is_400():
    assert rejected({"distinct_id": "u"}).code == "invalid_payload"


@pytest.mark.parametrize("payload", [[], {"batch": []}])
def test_no_events_is_no_data(payload: Any):
    with pytest.raises(NoData):
        stored(payload)


def test_non_object_element_is_named_in_attr():
    assert rejected({"batch": [{"event": "a", "distinct_id": "u"}, 3]}).attr == "batch[1]"


def test_invalid_event_in_a_batch_is_named_in_attr():
    assert rejected({"batch": [{"event": "a", "distinct_id": "u"}] * 3 + [{"event": "a"}]}).attr == (
        "batch[3].distinct_id"
    )


# §4 event rules
@pytest.mark.parametrize("name", [None, "", 5])
def test_event_name_must_be_a_non_empty_string(name: Any):
    assert rejected({"event": name, "distinct_id": "u"}).attr == "event"


def test_distinct_id_sources_in_order():
    assert (
        stored({"event": "e", "$distinct_id": "b", "properties": {"distinct_id": "c"}})[0]["distinct_id"]
        == "b"
    )
    assert (
        stored({"event": "e", "distinct_id": "", "properties": {"distinct_id": "c"}})[0]["distinct_id"] == "c"
    )


@pytest.mark.parametrize(
    ("value", "text"),
    [(42, "42"), (1.5, "1.5"), (True, "true"), ([1, "a"], '[1,"a"]'), ({"k": 1}, '{"k":1}')],
)
def test_distinct_id_coercion(value: Any, text: str):
    assert one(distinct_id=value)["distinct_id"] == text


def test_distinct_id_nul_becomes_replacement_character_and_is_cut_to_200():
    assert one(distinct_id="a\x00" + "x" * 300)["distinct_id"] == "a\ufffd" + "x" * 198


def test_missing_distinct_id_is_400():
    error = rejected({"event": "e"})
    assert (error.attr, "distinct_id" in error.detail) == ("distinct_id", True)


def test_client_uuid_is_kept_lower_case():
    value = uuid.uuid4()
    assert one(uuid=str(value).upper())["uuid"] == str(value)


@pytest.mark.parametrize("value", [None, ""])
def test_missing_uuid_gets_a_uuidv7(value: Any):
    assert uuid.UUID(one(uuid=value)["uuid"]).version == 7


@pytest.mark.parametrize("value", ["not-a-uuid", 12])
def test_invalid_uuid_is_400(value: Any):
    assert rejected({"event": "e", "distinct_id": "u", "uuid": value}).attr == "uuid"


def test_null_properties_mean_empty():
    assert one(properties=None)["properties"] == {}


def test_non_object_properties_are_400():
    assert rejected({"event": "e", "distinct_id": "u", "properties": [1]}).attr == "properties"


@pytest.mark.parametrize(
    "value",
    ["2026-01-02T03:04:05.678Z", "2026-01-02T04:04:05.678+01:00", "2026-01-02T03:04:05.678", 1767323045678],
)
def test_timestamp_formats(value: Any):
    assert one(timestamp=value)["timestamp"] == "2026-01-02T03:04:05.678Z"


@pytest.mark.parametrize("value", ["yesterday", {"t": 1}, True])
def test_invalid_timestamp_is_400(value: Any):
    assert rejected({"event": "e", "distinct_id": "u", "timestamp": value}).attr == "timestamp"


def test_offset_wins_over_timestamp():
    event = one(offset=1500, timestamp="2020-01-01T00:00:00Z")
    assert event["timestamp"] == "2026-01-02T03:04:04.178Z"
    assert event["client_timestamp"] == "2020-01-01T00:00:00.000Z"


def test_non_integer_offset_is_400():
    assert rejected({"event": "e", "distinct_id": "u", "offset": "10"}).attr == "offset"


def test_timestamp_is_corrected_for_clock_skew_with_sent_at():
    client_now = NOW - timedelta(hours=1)  # the client's clock is an hour late
    events = stored(
        {
            "batch": [
                {
                    "event": "e",
                    "distinct_id": "u",
                    "timestamp": (client_now - timedelta(seconds=10)).isoformat(),
                }
            ],
            "sent_at": client_now.isoformat(),
        }
    )
    assert events[0]["timestamp"] == "2026-01-02T03:03:55.678Z"


def test_query_underscore_is_sent_at_in_epoch_milliseconds():
    client_now = NOW - timedelta(minutes=5)
    events = stored(
        [{"event": "e", "distinct_id": "u", "timestamp": client_now.isoformat()}],
        query_sent_at=str(int(client_now.timestamp() * 1000)),
    )
    assert events[0]["timestamp"] == "2026-01-02T03:04:05.678Z"


def test_timestamp_more_than_23_hours_ahead_becomes_now():
    assert one(timestamp=(NOW + timedelta(hours=24)).isoformat())["timestamp"] == "2026-01-02T03:04:05.678Z"


def test_missing_timestamp_is_now():
    assert one()["timestamp"] == one()["now"] == "2026-01-02T03:04:05.678Z"


@pytest.mark.parametrize("where", ["top", "properties"])
def test_set_and_set_once_must_be_objects(where: str):
    fields = {"$set": "x"} if where == "top" else {"properties": {"$set_once": 1}}
    assert rejected({"event": "e", "distinct_id": "u", **fields}).code == "invalid_payload"


def test_set_from_properties_is_stored():
    assert one(properties={"$set": {"a": 1}})["$set"] == {"a": 1}


def test_unknown_top_level_keys_are_kept():
    assert one(library="custom", type="capture")["library"] == "custom"


def test_a_stored_event_has_exactly_the_stored_fields_in_order():
    assert list(one().keys()) == list(STORED_FIELDS)


def test_stored_event_fields():
    event = one(properties={"$lib": "web", "$lib_version": "1.2.3"}, api_key="phc_client")
    assert {
        k: event[k] for k in ("project_id", "token", "ip", "lib", "lib_version", "historical_migration")
    } == {
        "project_id": 7,
        "token": "phc_project",
        "ip": "203.0.113.9",
        "lib": "web",
        "lib_version": "1.2.3",
        "historical_migration": False,
    }
    assert "api_key" not in event


@pytest.mark.parametrize("number", ["1e300", "1e99999", "-1e99999", "123456789012345678901234567890"])
def test_a_numeric_timestamp_that_is_not_epoch_milliseconds_is_400_whatever_its_size(number: str):
    """One rule for every number: one too large for a double is refused like one merely too large
    for a date, never read as missing and replaced with the server's time."""
    from support.app import DEMO_TOKEN, CaptureApp

    app = CaptureApp()
    body = f'{{"api_key": "{DEMO_TOKEN}", "event": "e", "distinct_id": "u", "timestamp": {number}}}'
    answer = app.request("POST", "/capture/", body)
    assert (answer.status, answer.json()["code"], answer.json()["attr"]) == (
        400,
        "invalid_payload",
        "timestamp",
    )
    assert app.stored() == []


def test_numbers_past_a_double_in_properties_are_stored_as_null():
    from support.app import DEMO_TOKEN, CaptureApp

    app = CaptureApp()
    properties = '{"big": 1e99999, "n": NaN}'
    body = f'{{"api_key": "{DEMO_TOKEN}", "event": "e", "distinct_id": "u", "properties": {properties}}}'
    assert app.request("POST", "/capture/", body).status == 200
    assert app.stored()[0]["properties"] == {"big": None, "n": None}
