"""Capture v1 (docs/protocol.md §11): `POST /i/v1/analytics/events`, which answers per event.

Where v0 is all or nothing, v1 says of each event `ok`, `drop` (it can never be stored) or
`retry` (neither Firehose nor the direct path to S3 took it in time): every stored line maps back
to its event, and only the events of unstored lines are to be sent again. The request is
authenticated from its headers before its body is read.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import orjson
from aws_lambda_powertools.event_handler import Response

from capture_core import json_codec
from capture_core.api import responses
from capture_core.api.request import HttpRequest, current_request
from capture_core.api.resolver import CaptureResolver, Doc, add_route
from capture_core.api.routes import V1_PATH
from capture_core.auth.quotas import EVENTS
from capture_core.decoding.content_encoding import inflate
from capture_core.errors import (
    CaptureError,
    InvalidPayload,
    SinkUnavailable,
)
from capture_core.events.lines import DropRules, SizeRule, StoredLines, cookieless_ids
from capture_core.events.stored import Arrival, normalise_event
from capture_core.events.timestamps import EPOCH
from capture_core.lanes import shared, v1_request
from capture_core.lanes.v1_request import V1Headers, as_v0_event, read_batch, read_headers
from capture_core.observability import metrics
from capture_core.settings import Settings

# The SDKs wait at least this long before resending `retry` events (their backoff may add more).
RETRY_AFTER_SECONDS = 1


@dataclass(frozen=True, slots=True)
class Outcome:
    """What the answer says of one event."""

    result: str
    details: str | None = None

    def answer(self) -> dict[str, str]:
        return {"result": self.result} | ({"details": self.details} if self.details else {})


# The answer of each event while the project is over its events quota for the month.
QUOTA_LIMITED = Outcome("drop", f"quota_limited: {EVENTS}")


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

    # The lane reads the request itself, headers in PostHog's order of checks (`read_headers`).
    def capture_v1() -> Response[str]:
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
        "v1_capture",
    )
    add_route(app, V1_PATH, "POST", capture_v1, doc)

    shared.add_preflight(app, V1_PATH, "options_v1_events")


def v1_errors() -> dict[str, Callable[[CaptureError, Mapping[str, str]], Response[str]]]:
    """v1's own error format, for the resolver."""
    return {V1_PATH: v1_error}


# Capture v1's error format (docs/protocol.md §11): `{"error": <tag>, "error_description": <text>}`.
V1_TAGS = {
    "invalid_payload": "request_parsing_error",
    "no_data": "empty_body",
    "missing_api_key": "missing_authorization",
    "invalid_api_key": "invalid_api_token",
    "project_id_required": "invalid_api_token",
    "inconsistent_api_keys": "invalid_api_token",
    "request_too_large": "payload_too_large",
    "event_too_large": "payload_too_large",
    "unsupported_media_type": "unsupported_content_type",
    "not_found": "not_found",
    "method_not_allowed": "method_not_allowed",
    "sink_unavailable": "service_unavailable",
    "auth_unavailable": "service_unavailable",
    "internal_error": "internal_error",
}
V1_ERROR_URI = "https://posthog.com/docs/api"


def v1_error(failure: CaptureError, request_headers: Mapping[str, str]) -> Response[str]:
    headers = responses.error_headers(failure, request_headers)
    request_id = v1_request.request_id(request_headers)
    if request_id:
        headers["PostHog-Request-Id"] = request_id
    body = {
        "error": failure.tag or V1_TAGS.get(failure.code, failure.code),
        "error_description": failure.detail,
        "error_uri": V1_ERROR_URI,
    }
    return Response(
        status_code=failure.status,
        content_type=responses.JSON,
        body=orjson.dumps(body).decode(),
        headers=headers,
    )
