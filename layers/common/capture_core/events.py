"""Body shapes (SPEC §3) and event rules (SPEC §4): from a decoded payload to stored events (SPEC §8)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

import orjson
import uuid6

from capture_core.errors import InvalidPayload, NoData

MAX_DISTINCT_ID_LENGTH = 200
# Clients with a clock far ahead would write events into the future; PostHog caps at 23 hours.
MAX_FUTURE = timedelta(hours=23)
ENGAGE_PATH = "/engage"

# Fields of an incoming event that this module interprets; every other top-level key is kept as is.
_INPUT_FIELDS = frozenset(
    {
        "event", "distinct_id", "$distinct_id", "uuid", "properties", "timestamp", "offset",
        "$set", "$set_once", "api_key", "token", "$token", "sent_at", "project_id",
    }
)  # fmt: skip
TOKEN_FIELDS = ("api_key", "token", "$token")


@dataclass(frozen=True, slots=True)
class Batch:
    """The events of one request and what its envelope said about them."""

    events: list[dict[str, Any]]
    attr_prefix: str  # how `attr` names the i-th event: "batch[{i}]." , "[{i}]." or ""
    token: Any = None  # the envelope's api_key or token, when it has one
    sent_at: datetime | None = None
    historical_migration: bool = False
    project_id: Any = None

    def attr(self, index: int, name: str) -> str:
        return self.attr_prefix.format(i=index) + name


@dataclass(frozen=True, slots=True)
class Origin:
    """What the server knows about a request, beside its events."""

    now: datetime
    ip: str | None
    project_id: int
    token: str
    sent_at: datetime | None = None
    historical_migration: bool = False


def read_batch(payload: Any, path: str, query_sent_at: str | None = None) -> Batch:
    """Recognise the body shape of SPEC §3 and return its events (not yet validated)."""
    is_engage = path.rstrip("/") == ENGAGE_PATH
    if isinstance(payload, list):
        batch = Batch(events=_event_objects(payload, "[{i}].", is_engage), attr_prefix="[{i}].")
    elif isinstance(payload, dict) and "batch" in payload:
        if not isinstance(payload["batch"], list):
            raise InvalidPayload('The field "batch" must be a list of events.', attr="batch")
        batch = Batch(
            events=_event_objects(payload["batch"], "batch[{i}].", is_engage),
            attr_prefix="batch[{i}].",
            token=payload.get("api_key", payload.get("token")),
            sent_at=_lenient_datetime(payload.get("sent_at")),
            historical_migration=payload.get("historical_migration") is True,
            project_id=payload.get("project_id"),
        )
    elif isinstance(payload, dict):
        if "event" not in payload and not is_engage:
            raise InvalidPayload(
                'The payload has no "event" field, no "batch" list and is not a list of events.'
            )
        batch = Batch(events=_event_objects([payload], "", is_engage), attr_prefix="")
    else:
        raise InvalidPayload("The payload must be a JSON object or array of events.")
    if not batch.events:
        raise NoData(
            "The request holds no events.", attr="batch" if batch.attr_prefix.startswith("b") else None
        )
    if batch.sent_at is None and query_sent_at:
        # posthog-js sends its send time as `_` (epoch milliseconds) in the query string.
        return _with_sent_at(batch, _lenient_datetime(_int_or_none(query_sent_at)))
    return batch


def _with_sent_at(batch: Batch, sent_at: datetime | None) -> Batch:
    return Batch(
        batch.events, batch.attr_prefix, batch.token, sent_at, batch.historical_migration, batch.project_id
    )


def _event_objects(items: list[Any], prefix: str, is_engage: bool) -> list[dict[str, Any]]:
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            raise InvalidPayload("Each event must be a JSON object.", attr=prefix.format(i=index).rstrip("."))
    if is_engage:
        # /engage carries person updates without an event name: they are identify events.
        return [item if "event" in item else {**item, "event": "$identify"} for item in items]
    return items


def event_token(event: dict[str, Any]) -> Any:
    """The token an event carries itself, if any (top level first, then its properties)."""
    for name in TOKEN_FIELDS:
        value = event.get(name)
        if value is not None:
            return value
    properties = event.get("properties")
    return properties.get("token") if isinstance(properties, dict) else None


def normalise_events(batch: Batch, origin: Origin) -> Iterator[dict[str, Any]]:
    """Validate each event of the batch and build its stored form; the first invalid one raises."""
    for index, event in enumerate(batch.events):
        yield normalise_event(event, origin, partial(batch.attr, index))


def normalise_event(event: dict[str, Any], origin: Origin, attr: Callable[[str], str]) -> dict[str, Any]:
    name = event.get("event")
    if not isinstance(name, str) or not name:
        raise InvalidPayload('Event field "event" must be a non-empty string.', attr=attr("event"))

    properties = event.get("properties")
    if properties is None:
        properties = {}
    elif not isinstance(properties, dict):
        raise InvalidPayload('Event field "properties" must be an object.', attr=attr("properties"))

    person_set = _person_properties(event, properties, "$set", attr)
    person_set_once = _person_properties(event, properties, "$set_once", attr)
    client_timestamp = _timestamp(event.get("timestamp"), attr)
    offset = _offset(event.get("offset"), attr)

    stored: dict[str, Any] = {
        "uuid": _uuid(event.get("uuid"), attr),
        "event": name,
        "distinct_id": _distinct_id(event, properties, attr),
        "properties": properties,
        "$set": person_set,
        "$set_once": person_set_once,
        "timestamp": _format(_corrected_timestamp(origin, client_timestamp, offset, attr)),
        "client_timestamp": _format(client_timestamp),
        "sent_at": _format(origin.sent_at),
        "now": _format(origin.now),
        "project_id": origin.project_id,
        "token": origin.token,
        "ip": origin.ip,
        "historical_migration": origin.historical_migration,
        "lib": properties.get("$lib"),
        "lib_version": properties.get("$lib_version"),
    }
    for key, value in event.items():
        if key not in _INPUT_FIELDS and key not in stored:
            stored[key] = value
    return stored


def _distinct_id(event: dict[str, Any], properties: dict[str, Any], attr: Callable[[str], str]) -> str:
    for value in (event.get("distinct_id"), event.get("$distinct_id"), properties.get("distinct_id")):
        if value is None or value == "":
            continue
        text = value if isinstance(value, str) else orjson.dumps(value).decode()
        return text.replace("\x00", "\ufffd")[:MAX_DISTINCT_ID_LENGTH]
    raise InvalidPayload(
        'Event field "distinct_id" is missing: set "distinct_id" '
        '(or "$distinct_id", or properties.distinct_id).',
        attr=attr("distinct_id"),
    )


def _uuid(value: Any, attr: Callable[[str], str]) -> str:
    if value is None or value == "":
        return str(uuid6.uuid7())
    if isinstance(value, str):
        try:
            return str(uuid.UUID(value))
        except ValueError:
            pass
    raise InvalidPayload('Event field "uuid" must be a UUID string.', attr=attr("uuid"))


def _person_properties(
    event: dict[str, Any], properties: dict[str, Any], name: str, attr: Callable[[str], str]
) -> dict[str, Any] | None:
    found = None
    for where, value in ((name, event.get(name)), (f"properties.{name}", properties.get(name))):
        if value is None:
            continue
        if not isinstance(value, dict):
            raise InvalidPayload(f'Event field "{where}" must be an object.', attr=attr(where))
        found = value if found is None else found
    return found


def _timestamp(value: Any, attr: Callable[[str], str]) -> datetime | None:
    if value is None or value == "":
        return None
    parsed = _parse_datetime(value)
    if parsed is None:
        raise InvalidPayload(
            'Event field "timestamp" must be an ISO 8601 date-time or epoch milliseconds.',
            attr=attr("timestamp"),
        )
    return parsed


def _offset(value: Any, attr: Callable[[str], str]) -> int | None:
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    raise InvalidPayload('Event field "offset" must be an integer (milliseconds).', attr=attr("offset"))


def _corrected_timestamp(
    origin: Origin, client: datetime | None, offset: int | None, attr: Callable[[str], str]
) -> datetime:
    """The event's time in server time: clients' clocks are often wrong, the skew is not."""
    try:
        if offset is not None:
            corrected = origin.now - timedelta(milliseconds=offset)
        elif client is not None and origin.sent_at is not None:
            corrected = client + (origin.now - origin.sent_at)
        elif client is not None:
            corrected = client
        else:
            return origin.now
    except OverflowError as error:
        name = "offset" if offset is not None else "timestamp"
        raise InvalidPayload(f'Event field "{name}" is out of range.', attr=attr(name)) from error
    return origin.now if corrected - origin.now > MAX_FUTURE else corrected


def _parse_datetime(value: Any) -> datetime | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        try:
            return datetime.fromtimestamp(value / 1000, UTC)
        except (OverflowError, ValueError, OSError):
            return None
    if not isinstance(value, str):
        return None
    text = value.strip()
    if text.isdigit():
        return _parse_datetime(int(text))
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    # A time without a zone is taken as UTC: SDKs that omit the zone send UTC.
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def _lenient_datetime(value: Any) -> datetime | None:
    """`sent_at` only corrects clock skew: an unreadable one is ignored rather than losing the batch."""
    return _parse_datetime(value) if value is not None else None


def _int_or_none(text: str) -> int | None:
    return int(text) if text.strip().isdigit() else None


def _format(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
