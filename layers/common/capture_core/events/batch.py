"""Body shapes (docs/protocol.md §3): which events a decoded payload holds and what its envelope
says of them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from capture_core.errors import InvalidPayload, NoData
from capture_core.events.timestamps import EPOCH, parse_ms

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


def read_batch(payload: Any, *, engage: bool = False, query_sent_at: str | None = None) -> Batch:
    """Recognise the body shape of docs/protocol.md §3 and return its events (not yet validated).
    `engage`: the request came to `/engage`, where an object without `event` is a `$identify`."""
    is_engage = engage
    if isinstance(payload, list):
        batch = Batch(events=_event_objects(payload, "[{i}].", is_engage), attr_prefix="[{i}].")
    elif isinstance(payload, dict) and "batch" in payload:
        if not isinstance(payload["batch"], list):
            raise InvalidPayload('The field "batch" must be a list of events.', attr="batch")
        batch = Batch(
            events=_event_objects(payload["batch"], "batch[{i}].", is_engage),
            attr_prefix="batch[{i}].",
            token=payload["api_key"] if payload.get("api_key") is not None else payload.get("token"),
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
        # /engage carries person updates without an event name: they are identify events. Named
        # in place: a copy of each object would double what a large body costs.
        for item in items:
            if "event" not in item:
                item["event"] = "$identify"
    return items


def event_token(event: dict[str, Any]) -> Any:
    """The token an event carries itself, if any (top level first, then its properties)."""
    for name in TOKEN_FIELDS:
        value = event.get(name)
        if value is not None:
            return value
    properties = event.get("properties")
    return properties.get("token") if isinstance(properties, dict) else None


def _lenient_datetime(value: Any) -> datetime | None:
    """`sent_at` only corrects clock skew: an unreadable one is ignored rather than losing the batch."""
    ms = parse_ms(value) if value is not None else None
    return None if ms is None else EPOCH + timedelta(milliseconds=ms)


def _int_or_none(text: str) -> int | None:
    text = text.strip()
    return int(text) if text.isascii() and text.isdigit() and len(text) <= 20 else None
