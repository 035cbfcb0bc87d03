"""Event rules (docs/protocol.md §4) and the stored event (docs/protocol.md §8): from one received
event to what is stored.

`normalise_event` runs once per event, thousands of times per batch: it takes the common case
(what the SDKs send) on short paths and leaves rare shapes to the helpers below it.
"""

from __future__ import annotations

import math
import re
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import uuid6

from capture_core import json_codec
from capture_core.errors import InvalidPayload
from capture_core.events.timestamps import MIN_MS, format_ms, in_range, parse_iso_ms_z, parse_ms, to_ms
from capture_core.limits import MAX_ID_LENGTH

MAX_DISTINCT_ID_LENGTH = MAX_ID_LENGTH
# Clients with a clock far ahead would write events into the future; PostHog caps at 23 hours.
MAX_FUTURE_MS = 23 * 3600 * 1000

# Fields of an incoming event that this module interprets, and the fields of a stored event: any
# other top-level key is kept as is.
_INPUT_FIELDS = frozenset(
    {
        "event", "distinct_id", "$distinct_id", "uuid", "properties", "timestamp", "offset",
        "$set", "$set_once", "api_key", "token", "$token", "sent_at", "project_id",
    }
)  # fmt: skip
STORED_FIELDS = (
    "uuid", "event", "distinct_id", "properties", "$set", "$set_once", "timestamp", "client_timestamp",
    "sent_at", "now", "project_id", "token", "ip", "historical_migration", "lib", "lib_version",
)  # fmt: skip
_NOT_EXTRA = _INPUT_FIELDS | set(STORED_FIELDS)
_CANONICAL_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}").fullmatch
# Any case, hyphens optional, braces optional: what UUID libraries write. (uuid.UUID alone would
# also take "+", "_" and non-ASCII digits, through int().)
_UUID = re.compile(
    r"\{?[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}\}?"
).fullmatch


@dataclass(frozen=True, slots=True)
class Arrival:
    """What the server knows about a request, beside its events."""

    now: datetime
    ip: str | None
    project_id: int
    token: str
    sent_at: datetime | None = None
    historical_migration: bool = False
    # The caller's address whatever the project's settings: cookieless ids hash it, nothing stores it.
    client_ip: str | None = None
    now_ms: int = field(init=False)
    now_text: str = field(init=False)
    sent_at_ms: int | None = field(init=False)
    sent_at_text: str | None = field(init=False)

    def __post_init__(self) -> None:
        now_ms = to_ms(self.now)
        sent_at_ms = to_ms(self.sent_at) if self.sent_at is not None else None
        object.__setattr__(self, "now_ms", now_ms)
        object.__setattr__(self, "now_text", format_ms(now_ms))
        object.__setattr__(self, "sent_at_ms", sent_at_ms)
        object.__setattr__(self, "sent_at_text", format_ms(sent_at_ms) if sent_at_ms is not None else None)


def normalise_event(event: dict[str, Any], arrival: Arrival) -> dict[str, Any]:
    """Validate one event and build its stored form. Errors name the field; the caller adds which event."""
    name = event.get("event")
    if type(name) is not str or not name:
        raise InvalidPayload('Event field "event" must be a non-empty string.', attr="event")

    properties = event.get("properties")
    if properties is None:
        properties = {}
    elif type(properties) is not dict:
        raise InvalidPayload('Event field "properties" must be an object.', attr="properties")

    distinct_id = event.get("distinct_id")
    if distinct_id is None and "$distinct_id" not in event:
        # posthog-js sends it in properties only.
        distinct_id = properties.get("distinct_id")
    if (
        type(distinct_id) is not str
        or not distinct_id
        or len(distinct_id) > MAX_DISTINCT_ID_LENGTH
        or ("\x00" in distinct_id)
    ):
        distinct_id = _distinct_id(event, properties)

    event_uuid = event.get("uuid")
    if type(event_uuid) is not str or not _CANONICAL_UUID(event_uuid):
        event_uuid = _uuid(event_uuid)

    person_set = event.get("$set")
    person_set_once = event.get("$set_once")
    if (
        person_set is not None
        or person_set_once is not None
        or "$set" in properties
        or "$set_once" in properties
    ):
        person_set = _person_properties(event, properties, "$set")
        person_set_once = _person_properties(event, properties, "$set_once")

    timestamp = event.get("timestamp")
    client_ms = parse_iso_ms_z(timestamp) if type(timestamp) is str else None
    if client_ms is not None:
        client_text = timestamp  # already as it is stored
    else:
        client_ms = _client_ms(timestamp)
        client_text = format_ms(client_ms) if client_ms is not None else None
    offset = event.get("offset")
    if type(offset) is int and 0 <= offset <= arrival.now_ms - MIN_MS:
        # posthog-js's usual case: how long ago the event happened, which needs no other check.
        server_text = format_ms(arrival.now_ms - offset)
    else:
        # `$ignore_sent_at`: the client asks that its timestamp be kept as sent (PostHog's rule).
        sent_at_ms = None if properties.get("$ignore_sent_at") is True else arrival.sent_at_ms
        server_text = _corrected_timestamp(arrival, client_ms, offset, sent_at_ms)
    stored: dict[str, Any] = {
        "uuid": event_uuid,
        "event": name,
        "distinct_id": distinct_id,
        "properties": properties,
        "$set": person_set,
        "$set_once": person_set_once,
        "timestamp": server_text,
        "client_timestamp": client_text,
        "sent_at": arrival.sent_at_text,
        "now": arrival.now_text,
        "project_id": arrival.project_id,
        "token": arrival.token,
        "ip": arrival.ip,
        "historical_migration": arrival.historical_migration,
        # Columns of type string for every reader (Athena's JSON SerDe fails a whole file on an
        # object where a string column is): a `$lib` of another type stays in properties only.
        "lib": _text_or_none(properties.get("$lib")),
        "lib_version": _text_or_none(properties.get("$lib_version")),
    }
    if not event.keys() <= _NOT_EXTRA:
        for key, value in event.items():
            if key not in _NOT_EXTRA:
                stored[key] = value
    return stored


def _distinct_id(event: dict[str, Any], properties: dict[str, Any]) -> str:
    for value in (event.get("distinct_id"), event.get("$distinct_id"), properties.get("distinct_id")):
        if value is None or value == "" or (isinstance(value, float) and not math.isfinite(value)):
            continue  # a number past a double's range has no text to keep
        text = value if isinstance(value, str) else _compact_json(value)
        return text.replace("\x00", "\ufffd")[:MAX_DISTINCT_ID_LENGTH]
    raise InvalidPayload(
        'Event field "distinct_id" is missing: set "distinct_id" '
        '(or "$distinct_id", or properties.distinct_id).',
        attr="distinct_id",
    )


def _compact_json(value: Any) -> str:
    try:
        return json_codec.dumps_text(value)
    except InvalidPayload as error:
        raise InvalidPayload('Event field "distinct_id" is nested too deeply.', attr="distinct_id") from error


def _uuid(value: Any) -> str:
    if value is None or value == "":
        return str(uuid6.uuid7())
    if isinstance(value, str) and _UUID(value):
        return str(uuid.UUID(value))
    raise InvalidPayload('Event field "uuid" must be a UUID string.', attr="uuid")


def _person_properties(event: dict[str, Any], properties: dict[str, Any], name: str) -> dict[str, Any] | None:
    found = None
    for where, value in ((name, event.get(name)), (f"properties.{name}", properties.get(name))):
        if value is None:
            continue
        if not isinstance(value, dict):
            raise InvalidPayload(f'Event field "{where}" must be an object.', attr=where)
        found = value if found is None else found
    return found


def _client_ms(value: Any) -> int | None:
    if value is None or value == "":
        return None
    ms = parse_ms(value)
    if ms is None:
        raise InvalidPayload(
            'Event field "timestamp" must be an ISO 8601 date-time or epoch milliseconds.', attr="timestamp"
        )
    return ms


def _corrected_timestamp(arrival: Arrival, client_ms: int | None, offset: Any, sent_at_ms: int | None) -> str:
    """The event's time in server time: clients' clocks are often wrong, the skew is not."""
    if offset is not None:
        if type(offset) is float and offset.is_integer():
            offset = int(offset)
        if type(offset) is not int:
            raise InvalidPayload('Event field "offset" must be an integer (milliseconds).', attr="offset")
        corrected, name = arrival.now_ms - offset, "offset"
    elif client_ms is None:
        return arrival.now_text
    elif sent_at_ms is not None and in_range(client_ms + (arrival.now_ms - sent_at_ms)):
        corrected, name = client_ms + (arrival.now_ms - sent_at_ms), "timestamp"
    else:
        # No sent_at, or one so far off that the correction leaves the calendar: it only corrects
        # skew, so the client's timestamp is kept rather than losing the batch.
        corrected, name = client_ms, "timestamp"
    if corrected - arrival.now_ms > MAX_FUTURE_MS:
        return arrival.now_text
    if not in_range(corrected):
        raise InvalidPayload(f'Event field "{name}" is out of range.', attr=name)
    return format_ms(corrected)


def _text_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) else None
