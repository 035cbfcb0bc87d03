"""The v0 capture lane (docs/protocol.md §1–9): `/capture`, `/e`, `/i/v0/e`, `/track`, `/engage`, `/batch`.

Every stage in order: the request's bytes decoded to a payload, its batch read, its key found,
each event normalised into a stored line, the lines delivered. A 200 only once every line is
stored (in Firehose, or in S3 by the direct path).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime

from aws_lambda_powertools.event_handler import Response

from capture_core import docs
from capture_core.api import responses
from capture_core.api.request import HttpRequest, current_request, request_headers
from capture_core.api.resolver import CaptureResolver, Doc, add_route
from capture_core.auth.credentials import request_project_id, request_token
from capture_core.auth.keys import KeyStore, Project
from capture_core.auth.quotas import EVENTS
from capture_core.decoding.payload import decode_payload
from capture_core.events.batch import Batch, read_batch
from capture_core.events.cookieless import Cookieless
from capture_core.events.lines import DropRules, SizeRule, stored_lines
from capture_core.events.stored import Arrival
from capture_core.observability import metrics
from capture_core.settings import Settings
from capture_core.sink.delivery import EventSink, deliver


def utc_now() -> datetime:
    return datetime.now(UTC)


def arrival_of(
    request: HttpRequest, project: Project, now: datetime, sent_at: datetime | None, historical: bool
) -> Arrival:
    """What the server knows of a request to `project`, beside its events (the lanes' one rule for
    the stored `ip` and `token`)."""
    return Arrival(
        now=now,
        ip=None if project.anonymize_ips else request.client_ip,
        project_id=project.project_id,
        token=project.token,
        sent_at=sent_at,
        historical_migration=historical,
        client_ip=request.client_ip,
    )


def read_request(
    request: HttpRequest, keys: KeyStore, settings: Settings, now: datetime
) -> tuple[Batch, Project, Arrival]:
    """The stages of a v0-format request (v0 capture, recordings): its bytes decoded, its batch read,
    its key found."""
    decoded = decode_payload(
        request.query,
        request.headers,
        request.body,
        max_payload_bytes=settings.max_payload_bytes,
        parse_budget_bytes=settings.parse_budget_bytes,
    )
    batch = read_batch(decoded.data, request.path, request.query.get("_"))
    token = request_token(batch, decoded.form, request.query, request.headers)
    project = keys.project_for(token, request_project_id(batch, request.query))
    return batch, project, arrival_of(request, project, now, batch.sent_at, batch.historical_migration)


class CaptureV0:
    """Stores every event of a request, or raises the error that says why not."""

    def __init__(
        self,
        settings: Settings,
        keys: KeyStore,
        sink: EventSink,
        *,
        clock: Callable[[], datetime] = utc_now,
        cookieless: Cookieless | None = None,
    ) -> None:
        self._settings = settings
        self._keys = keys
        self._sink = sink
        self._clock = clock
        self._cookieless = cookieless

    def capture(self, request: HttpRequest, deadline: float) -> int:
        """Store every event of `request` by `deadline` (a monotonic time), or raise; returns how
        many events were stored."""
        settings = self._settings
        batch, project, arrival = read_request(request, self._keys, settings, self._clock())
        if project.quotas.limits(EVENTS, arrival.now):
            # 200 and nothing stored, as PostHog answers: a refusal would make SDKs resend forever.
            metrics.add_metric(name="EventsDroppedByQuota", unit="Count", value=len(batch.events))
            return 0
        rule = SizeRule(settings.max_event_bytes, settings.max_stored_bytes)
        drops = DropRules.of(project.settings.drop_distinct_ids, project.settings.drop_event_names, "Events")
        deliver(self._sink, stored_lines(batch, arrival, rule, self._cookieless, drops), deadline)
        metrics.add_metric(name="EventsAccepted", unit="Count", value=len(batch.events))
        return len(batch.events)


def add_routes(
    app: CaptureResolver,
    lane: CaptureV0,
    paths: Sequence[str],
    settings: Settings,
    *,
    clock: Callable[[], float] = time.monotonic,
) -> None:
    """Serve `paths` (with or without a trailing slash) with the v0 capture lane."""

    def capture() -> Response[str]:
        # The Lambda's time counts from the request's arrival: decoding and key lookups spend it
        # too, and the answer must come before the function is stopped.
        remaining = app.lambda_context.get_remaining_time_in_millis() / 1000
        deadline = clock() + remaining - settings.sink_time_margin_seconds
        request = current_request(app, settings.max_request_bytes)
        lane.capture(request, deadline=deadline)
        return responses.success(request.headers, beacon=request.query.get("beacon") == "1")

    # The parameters document the routes (OpenAPI); the lane reads the request itself, since it
    # accepts more encodings than a schema can describe.
    def capture_post(
        body: docs.openapi.PostBody = None,
        *,
        ip: docs.openapi.Ip = None,
        compression: docs.openapi.Compression = None,
        data: docs.openapi.Data = None,
        beacon: docs.openapi.Beacon = None,
        sent_at: docs.openapi.SentAt = None,
    ) -> Response[str]:
        return capture()

    def capture_get(
        data: docs.openapi.Data = None,
        *,
        ip: docs.openapi.Ip = None,
        compression: docs.openapi.Compression = None,
        beacon: docs.openapi.Beacon = None,
        sent_at: docs.openapi.SentAt = None,
    ) -> Response[str]:
        return capture()

    def preflight() -> Response[str]:
        # Answered without touching the payload: a preflight carries none.
        return responses.preflight(request_headers(app))

    for path in paths:
        name = path.strip("/").replace("/", "_")
        routes = (
            ("POST", capture_post, f"Capture events ({path}/)", "RESPONSES"),
            ("GET", capture_get, f"Capture events from the data query parameter ({path}/)", "RESPONSES"),
            ("OPTIONS", preflight, "CORS preflight", "PREFLIGHT_RESPONSES"),
        )
        for method, route, summary, answers in routes:
            add_route(app, path, method, route, Doc(summary, answers, f"{method.lower()}_{name}", (name,)))
