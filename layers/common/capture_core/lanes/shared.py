"""What the lanes share, in one home: a request's time budget, the CORS preflight of a lane's
paths, the server's side of a request (its arrival), and reading a request in the v0 format
(v0 capture and recordings). Lanes import this module, never each other."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from aws_lambda_powertools.event_handler import Response

from capture_core.api import responses
from capture_core.api.request import HttpRequest, request_headers
from capture_core.api.resolver import CaptureResolver, Doc, add_route
from capture_core.api.routes import ENGAGE_PATH
from capture_core.auth.credentials import request_project_id, request_token
from capture_core.auth.keys import KeyStore, Project
from capture_core.decoding.payload import decode_payload
from capture_core.events.batch import Batch, read_batch
from capture_core.events.cookieless import Cookieless
from capture_core.events.stored import Arrival
from capture_core.settings import Settings
from capture_core.sink.delivery import EventSink


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class StoringLane:
    """What a lane that stores events is made of: the settings, the key store, the sink of its
    stream, the clock it dates arrivals by, and cookieless ids (None: events keep theirs)."""

    settings: Settings
    keys: KeyStore
    sink: EventSink
    clock: Callable[[], datetime] = utc_now
    cookieless: Cookieless | None = None


def deadline(app: CaptureResolver, settings: Settings, clock: Callable[[], float]) -> float:
    """When a request's work must be done, on `clock` (monotonic): the Lambda's time counts from
    the request's arrival (decoding and key lookups spend it too), less a margin to answer in."""
    remaining = app.lambda_context.get_remaining_time_in_millis() / 1000
    return clock() + remaining - settings.sink_time_margin_seconds


def add_preflight(
    app: CaptureResolver, path: str, operation_id: str | None = None, tags: tuple[str, ...] = ()
) -> None:
    """Answer the CORS preflight (OPTIONS) on `path`, without reading a body or a key (a path's
    parameters, if it has any, are not read either)."""

    def preflight(**_path_parameters: str) -> Response[str]:
        return responses.preflight(request_headers(app))

    add_route(
        app, path, "OPTIONS", preflight, Doc("CORS preflight", "PREFLIGHT_RESPONSES", operation_id, tags)
    )


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
    engage = request.path.rstrip("/") == ENGAGE_PATH
    batch = read_batch(decoded.data, engage=engage, query_sent_at=request.query.get("_"))
    token = request_token(batch, decoded.form, request.query, request.headers)
    project = keys.project_for(token, request_project_id(batch, request.query))
    return batch, project, arrival_of(request, project, now, batch.sent_at, batch.historical_migration)
