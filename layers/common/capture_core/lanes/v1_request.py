"""Reading a capture v1 request (docs/protocol.md §11), apart from the lane that stores it: its
headers in PostHog's order of checks, its batch, and each event in the shape v0 normalises (or why
it must be dropped). Nothing here stores or answers."""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from capture_core.auth.credentials import v1_token
from capture_core.decoding.content_encoding import ENCODINGS
from capture_core.errors import InvalidPayload, MissingApiKey, UnsupportedMediaType
from capture_core.events.timestamps import parse_ms
from capture_core.limits import MAX_ID_LENGTH

REQUIRED_HEADERS = (
    "PostHog-Sdk-Info",
    "PostHog-Attempt",
    "PostHog-Request-Id",
    "PostHog-Request-Timestamp",
    "Content-Type",
    "User-Agent",
)
# An event's name and distinct_id are at most this many characters (PostHog counts characters, not bytes).
MAX_NAME_LENGTH = MAX_DISTINCT_ID_LENGTH = MAX_ID_LENGTH
# Options an event may carry, and the property each becomes in the stored event.
OPTION_PROPERTIES = {
    "cookieless_mode": "$cookieless_mode",
    "disable_skew_correction": "$ignore_sent_at",
    "process_person_profile": "$process_person_profile",
    "product_tour_id": "$product_tour_id",
}
_RFC3339 = re.compile(r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})")
_UUID = re.compile(r"[0-9A-Fa-f]{8}-?[0-9A-Fa-f]{4}-?[0-9A-Fa-f]{4}-?[0-9A-Fa-f]{4}-?[0-9A-Fa-f]{12}")
_VISIBLE_ASCII = re.compile(r"[\x20-\x7e]*")


def _bad_header(detail: str) -> InvalidPayload:
    return InvalidPayload(detail, tag="invalid_header_value")


def _rfc3339_ms(value: Any) -> int | None:
    return parse_ms(value) if isinstance(value, str) and _RFC3339.fullmatch(value.strip()) else None


@dataclass(frozen=True, slots=True)
class V1Headers:
    """What a v1 request says in its headers."""

    token: str
    lib: str | None
    lib_version: str | None
    request_id: str
    attempt: int
    request_ms: int
    encoding: str


def read_headers(headers: Mapping[str, str]) -> V1Headers:
    """The headers, in PostHog's order of checks: the key, the required headers, the key's form,
    the media type and encoding, then each value's format."""
    authorization = headers.get("authorization", "").strip()
    if not authorization:
        raise MissingApiKey("No Authorization header: send `Authorization: Bearer <project API key>`.")
    missing = [name for name in REQUIRED_HEADERS if not headers.get(name.lower(), "").strip()]
    if missing:
        raise InvalidPayload(
            f"Required headers are missing: {', '.join(missing)}.", tag="missing_required_headers"
        )
    token = v1_token(authorization)
    media_type = headers["content-type"].split(";", 1)[0].strip().lower()
    if media_type != "application/json":
        raise UnsupportedMediaType(f"Content-Type must be application/json, not {media_type!r}.")
    encoding = headers.get("content-encoding", "").strip().lower()
    if encoding and encoding not in ENCODINGS:
        raise UnsupportedMediaType(
            f"Content-Encoding must be one of {', '.join(ENCODINGS)}.", tag="unsupported_encoding"
        )
    for name in REQUIRED_HEADERS:
        if not _VISIBLE_ASCII.fullmatch(headers[name.lower()]):
            raise _bad_header(f"{name} must be visible ASCII.")
    request_id = headers["posthog-request-id"].strip()
    if not _UUID.fullmatch(request_id):
        raise _bad_header("PostHog-Request-Id must be a UUID.")
    attempt = headers["posthog-attempt"].strip()
    if not (attempt.isdigit() and 1 <= int(attempt) < 2**32):
        raise _bad_header("PostHog-Attempt must be an integer of 1 or more.")
    request_ms = _rfc3339_ms(headers["posthog-request-timestamp"])
    if request_ms is None:
        raise _bad_header("PostHog-Request-Timestamp must be an RFC 3339 date-time.")
    # `<lib>/<version>`, split at the last slash; anything else only leaves $lib unset.
    lib, slash, version = headers["posthog-sdk-info"].strip().rpartition("/")
    named = slash and lib.strip() and version.strip() and len(headers["posthog-sdk-info"]) <= MAX_ID_LENGTH
    return V1Headers(
        token=token,
        lib=lib.strip() if named else None,
        lib_version=version.strip() if named else None,
        request_id=request_id,
        attempt=int(attempt),
        request_ms=request_ms,
        encoding=encoding,
    )


def _option(name: str, value: Any) -> Any:
    """An option's value as the stored property holds it; `ValueError` when it cannot be one."""
    if name == "product_tour_id":
        if isinstance(value, str) or (isinstance(value, int) and not isinstance(value, bool)):
            return value
        raise ValueError(name)
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return value != 0
    if isinstance(value, str) and value.strip().lower() in {"true", "1", "false", "0"}:
        return value.strip().lower() in {"true", "1"}
    raise ValueError(name)


def as_v0_event(event: dict[str, Any], headers: V1Headers) -> dict[str, Any] | str:
    """The event in the shape v0 normalises (docs/protocol.md §11's mappings), or why it must be dropped."""
    name, distinct_id = event["event"], event["distinct_id"].strip()
    if not name:
        return "missing_event_name"
    if len(name) > MAX_NAME_LENGTH:
        return "event_name_too_long"
    if not distinct_id:
        return "missing_distinct_id"
    if len(distinct_id) > MAX_DISTINCT_ID_LENGTH:
        return "distinct_id_too_large"
    if _rfc3339_ms(event["timestamp"]) is None:
        return "invalid_event_timestamp"
    properties = event.get("properties", {})
    if not isinstance(properties, dict):
        return "malformed_event_properties"
    options = event.get("options") or {}
    if not isinstance(options, dict):
        return "invalid_options"
    properties = dict(properties)
    try:
        for option, value in options.items():
            if option in OPTION_PROPERTIES and value is not None:
                properties[OPTION_PROPERTIES[option]] = _option(option, value)
    except ValueError:
        return "invalid_options"
    for field, key in (("session_id", "$session_id"), ("window_id", "$window_id")):
        if event.get(field) is not None:
            properties[key] = event[field]
    if headers.lib is not None:
        properties["$lib"], properties["$lib_version"] = headers.lib, headers.lib_version
    return {
        "event": name,
        "distinct_id": distinct_id,
        "uuid": event["uuid"].strip(),
        "timestamp": event["timestamp"],
        "properties": properties,
    }


def read_batch(payload: Any) -> tuple[list[dict[str, Any]], bool]:
    """The events and `historical_migration` of a v1 body; anything that makes the whole request
    unreadable is 400 (an empty batch, a bad `created_at`, a uuid missing, bad or repeated)."""
    if not isinstance(payload, dict) or not isinstance(payload.get("batch"), list):
        raise InvalidPayload('The body must be an object with a "batch" list.', tag="request_parsing_error")
    events: list[dict[str, Any]] = payload["batch"]
    if not events:
        raise InvalidPayload("The request's batch is empty.", tag="empty_batch", attr="batch")
    if _rfc3339_ms(payload.get("created_at")) is None:
        raise InvalidPayload(
            "created_at is not a valid RFC 3339 date-time.", tag="invalid_batch", attr="created_at"
        )
    seen: set[str] = set()
    for index, event in enumerate(events):
        where = f"batch[{index}]"
        if not isinstance(event, dict):
            raise InvalidPayload("Each event must be an object.", tag="request_parsing_error", attr=where)
        for field in ("event", "uuid", "distinct_id", "timestamp"):
            if not isinstance(event.get(field), str):
                raise InvalidPayload(f'Event field "{field}" must be a string.', tag="request_parsing_error",
                                     attr=f"{where}.{field}")  # fmt: skip
        for field in ("session_id", "window_id"):
            if event.get(field) is not None and not isinstance(event[field], str):
                raise InvalidPayload(f'Event field "{field}" must be a string.', tag="request_parsing_error",
                                     attr=f"{where}.{field}")  # fmt: skip
        event_uuid = event["uuid"].strip()
        if not event_uuid:
            raise InvalidPayload("An event has no uuid.", tag="missing_event_uuid", attr=f"{where}.uuid")
        if not _UUID.fullmatch(event_uuid):
            raise InvalidPayload(
                f"Invalid event uuid: {event_uuid[:64]}.", tag="invalid_event_uuid", attr=f"{where}.uuid"
            )
        key = str(uuid.UUID(event_uuid))
        if key in seen:
            raise InvalidPayload(
                f"Duplicate event uuid: {event_uuid}.", tag="duplicate_event_uuid", attr=f"{where}.uuid"
            )
        seen.add(key)
    return events, payload.get("historical_migration") is True


def request_id(request_headers: Mapping[str, str]) -> str | None:
    """The request's `PostHog-Request-Id`, echoed in every v1 answer when it is a UUID."""
    value = request_headers.get("posthog-request-id", "").strip()
    return value if _UUID.fullmatch(value) else None
