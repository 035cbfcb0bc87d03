"""Capture v1 (docs/protocol.md §11): `POST /i/v1/analytics/events`, which answers per event.

Where v0 is all or nothing, v1 says of each event `ok`, `drop` (it can never be stored) or
`retry` (neither Firehose nor the direct path to S3 took it in time): every stored line maps back
to its event, and only the events of unstored lines are to be sent again. The request is
authenticated from its headers before its body is read.
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from aws_lambda_powertools.event_handler import Response

from capture_core import docs, json_codec
from capture_core.api import responses
from capture_core.api.request import HttpRequest, current_request
from capture_core.api.resolver import CaptureResolver, Doc, add_route
from capture_core.api.routes import V1_PATH
from capture_core.auth.credentials import v1_token
from capture_core.auth.quotas import EVENTS
from capture_core.decoding.content_encoding import ENCODINGS, inflate
from capture_core.errors import (
    CaptureError,
    InvalidPayload,
    MissingApiKey,
    SinkUnavailable,
    UnsupportedMediaType,
)
from capture_core.events.lines import DropRules, SizeRule, StoredLines, cookieless_ids
from capture_core.events.stored import Arrival, normalise_event
from capture_core.events.timestamps import EPOCH, parse_ms
from capture_core.lanes import shared
from capture_core.limits import MAX_ID_LENGTH
from capture_core.observability import metrics
from capture_core.settings import Settings

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
# The SDKs wait at least this long before resending `retry` events (their backoff may add more).
RETRY_AFTER_SECONDS = 1
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
# The default of a route parameter that only documents the request: Powertools never passes it a
# value (the resolver does not validate), so it needs none of the documents' models at cold start.
DOCUMENTED_ONLY: Any = None


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


@dataclass
class Outcome:
    """What the answer says of one event."""

    result: str
    details: str | None = None

    def answer(self) -> dict[str, str]:
        return {"result": self.result} | ({"details": self.details} if self.details else {})


# The answer of each event while the project is over its events quota for the month.
QUOTA_LIMITED = Outcome("drop", f"quota_limited: {EVENTS}")


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


@dataclass(frozen=True, slots=True)
class V1Answer:
    results: dict[str, dict[str, str]]
    retry: bool


class CaptureV1(shared.StoringLane):
    def capture(self, request: HttpRequest, deadline: float) -> V1Answer:
        now = self.clock()
        settings = self.settings
        headers = read_headers(request.headers)
        # Authenticated before the body is inflated or parsed: a stranger's body costs nothing.
        project = self.keys.project_key(headers.token)
        if not request.body:
            raise InvalidPayload("The request has no body.", tag="empty_body")
        try:
            data = inflate(request.body, headers.encoding, settings.max_payload_bytes)
        except InvalidPayload as error:
            raise InvalidPayload(error.detail, tag="request_decoding_error") from error
        json_codec.check_budget(data, settings.parse_budget_bytes)
        events, historical = read_batch(json_codec.loads(data))
        # Clock skew is measured against the attempt's own send time.
        sent_at = EPOCH + timedelta(milliseconds=headers.request_ms)
        arrival = shared.arrival_of(request, project, now, sent_at, historical)
        if project.quotas.limits(EVENTS, now):
            # Each event dropped, naming the quota: a retry could never store it this month.
            metrics.add_metric(name="EventsDroppedByQuota", unit="Count", value=len(events))
            self._count([QUOTA_LIMITED] * len(events))
            return V1Answer({event["uuid"].strip(): QUOTA_LIMITED.answer() for event in events}, retry=False)
        drops = DropRules.of(project.settings.drop_distinct_ids, project.settings.drop_event_names, "Events")
        outcomes, lines, line_events = self._store(events, headers, arrival, drops)
        unsent = self.sink.send(lines, deadline) if lines else []
        for position in unsent:
            outcomes[line_events[position]] = Outcome("retry", "not_persisted")
        if line_events and len(unsent) == len(line_events):
            raise SinkUnavailable("No event could be stored now; retry the request.")
        self._count(outcomes)
        results = {
            event["uuid"].strip(): outcome.answer() for event, outcome in zip(events, outcomes, strict=True)
        }
        return V1Answer(results, retry=bool(unsent))

    def _store(
        self, events: list[dict[str, Any]], headers: V1Headers, arrival: Arrival, drops: DropRules | None
    ) -> tuple[list[Outcome], list[bytes], list[int]]:
        """Each event's outcome so far, the stored lines, and which event each line is."""
        settings = self.settings
        lines = StoredLines(
            SizeRule(settings.max_event_bytes, settings.max_stored_bytes), len(events), arrival
        )
        outcomes: list[Outcome] = []
        line_events: list[int] = []
        for index, event in enumerate(events):
            shaped = as_v0_event(event, headers)
            if isinstance(shaped, str):
                outcomes.append(Outcome("drop", shaped))
                continue
            try:
                stored = normalise_event(shaped, arrival)
                if drops is not None and drops.drops(stored):
                    outcomes.append(Outcome("drop", "dropped_by_project_rule"))
                    continue
                dropped = cookieless_ids(stored, arrival, self.cookieless)
            except InvalidPayload as error:
                outcomes.append(Outcome("drop", f"invalid_event: {error.attr or error.detail}"))
                continue
            if dropped:
                outcomes.append(Outcome("drop", dropped))
                continue
            line = json_codec.dumps_line(stored)
            if lines.too_large(line):
                outcomes.append(Outcome("drop", "event_too_big"))
                continue
            lines.add(line)
            line_events.append(index)
            outcomes.append(Outcome("ok"))
            events[index] = {"uuid": event["uuid"]}  # the parsed event is no longer needed
        return outcomes, lines.lines, line_events

    @staticmethod
    def _count(outcomes: list[Outcome]) -> None:
        for result, metric in (
            ("ok", "EventsAccepted"),
            ("drop", "V1EventsDropped"),
            ("retry", "V1EventsRetried"),
        ):
            count = sum(1 for outcome in outcomes if outcome.result == result)
            if count:
                metrics.add_metric(name=metric, unit="Count", value=count)


def add_routes(
    app: CaptureResolver,
    lane: CaptureV1,
    settings: Settings,
    *,
    clock: Callable[[], float] = time.monotonic,
) -> None:
    """Serve `/i/v1/analytics/events` (with or without a trailing slash)."""

    # The parameters document the route (OpenAPI); the lane reads the request itself, headers in
    # PostHog's order of checks (`read_headers`).
    def capture_v1(
        body: docs.openapi.V1Body = None,
        *,
        required_headers: docs.openapi.V1HeaderParameters = DOCUMENTED_ONLY,
    ) -> Response[str]:
        request = current_request(app, settings.max_request_bytes)
        answer = lane.capture(request, deadline=shared.deadline(app, settings, clock))
        headers = {"PostHog-Request-Id": request.headers["posthog-request-id"].strip()}
        if answer.retry:
            headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
        result = responses.document({"results": answer.results}, request.headers, cache_control="no-store")
        result.headers.update(headers)
        return result

    doc = Doc(
        "Capture events, answered per event (v1)",
        "V1_RESPONSES",
        "post_v1_events",
        ("i_v1_analytics_events",),
    )
    add_route(app, V1_PATH, "POST", capture_v1, doc)

    shared.add_preflight(app, V1_PATH, "options_v1_events")


def v1_errors() -> dict[str, Callable[[CaptureError, Mapping[str, str]], Response[str]]]:
    """v1's own error format, for the resolver."""
    return {V1_PATH: responses.v1_error}
