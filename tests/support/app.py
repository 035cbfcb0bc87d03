"""A capture app wired to in-memory fakes, and a way to call it with API Gateway events."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver
from capture_core.api.resolver import without_base_path
from capture_core.api.routes import function_for
from capture_core.auth.keys import KeyStore
from capture_core.events.cookieless import Cookieless
from capture_core.events.cookieless_salts import CookielessSalts
from capture_core.lanes.health import Health, stack_checks
from capture_core.lanes.shared import utc_now
from capture_core.settings import Settings
from capture_core.sink.delivery import EventSink, MemorySink
from capture_core.wiring import FUNCTIONS, Runtime
from capture_local.lambda_context import lambda_context
from capture_local.rest_event import build_rest_event

from support.fakes import FakeKeyTable, FakeStreams

DEMO_TOKEN = "phc_test_token"


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: str

    def json(self) -> Any:
        return json.loads(self.body)


ASSETS = Path(__file__).resolve().parents[2] / "layers" / "static" / "posthog-js"


@dataclass
class CaptureApp:
    """Every function of the template, built by the same wiring as on Lambda, over a fake key
    table and in-memory sinks (one per stream)."""

    sink: EventSink = field(default_factory=MemorySink)
    table: FakeKeyTable = field(default_factory=lambda: FakeKeyTable.with_project(DEMO_TOKEN, 1))
    clock: Callable[[], datetime] = utc_now
    settings: Settings = field(default_factory=lambda: Settings(static_assets_dir=str(ASSETS)))
    monotonic: Callable[[], float] = time.monotonic  # the clock the request's time budget runs on
    request_ids: Callable[[], str] = lambda: str(uuid.uuid4())  # flags answers' requestId
    recordings: EventSink = field(default_factory=MemorySink)
    streams: FakeStreams = field(default_factory=FakeStreams)  # what the health check describes

    def __post_init__(self) -> None:
        sinks = {
            self.settings.events_stream_name: self.sink,
            self.settings.recordings_stream_name: self.recordings,
        }
        runtime = Runtime(
            keys=KeyStore(self.table, "keys", ttl_seconds=60),
            sink=sinks.__getitem__,
            now=self.clock,
            monotonic=self.monotonic,
            request_ids=self.request_ids,
            health=Health(
                {"dynamodb": self.table, "firehose": self.streams}.__getitem__,
                stack_checks(self.settings),
                clock=self.monotonic,
            ),
            cookieless=Cookieless(CookielessSalts(self.table, "keys", now=self.clock).for_day),
        )
        self.apps: dict[str, APIGatewayRestResolver] = {
            name: build(self.settings, runtime) for name, build in FUNCTIONS.items()
        }

    def function_for(self, path: str) -> str:
        """Which function API Gateway sends `path` to, under the custom domain's base path too."""
        return function_for(without_base_path(path, self.settings.api_base_path))

    def invoke(self, event: Mapping[str, Any], timeout_s: float = 15.0) -> Answer:
        function = self.function_for(event["path"])
        result = self.apps[function].resolve(dict(event), lambda_context(function, timeout_s=timeout_s))
        headers = {name: values[-1] for name, values in (result.get("multiValueHeaders") or {}).items()}
        headers.update(result.get("headers") or {})
        return Answer(result["statusCode"], headers, result.get("body") or "")

    def request(
        self,
        method: str,
        path: str,
        body: bytes | str | None = None,
        *,
        headers: Mapping[str, str] | Sequence[tuple[str, str]] = (),
        query: str = "",
        source_ip: str = "198.51.100.7",
    ) -> Answer:
        return self.invoke(build_rest_event(method, path, None, headers, query, body, source_ip))

    def stored(self) -> list[dict[str, Any]]:
        return lines_of(self.sink)

    def stored_recordings(self) -> list[dict[str, Any]]:
        return lines_of(self.recordings)


def lines_of(sink: EventSink) -> list[dict[str, Any]]:
    assert isinstance(sink, MemorySink)
    return [json.loads(line) for line in sink.lines]


def v1_headers(
    sent_at: str = "2026-05-01T12:00:00.000Z",
    *,
    sdk: str = "posthog-python/7.91.1",
    request_id: str = "0193a1b2-0000-7000-8000-00000000cccc",
) -> dict[str, str]:
    """Capture v1's six headers as an SDK sends them, for the demo project."""
    return {
        "Authorization": f"Bearer {DEMO_TOKEN}",
        "Content-Type": "application/json",
        "User-Agent": sdk,
        "PostHog-Sdk-Info": sdk,
        "PostHog-Attempt": "1",
        "PostHog-Request-Id": request_id,
        "PostHog-Request-Timestamp": sent_at,
    }


def metric_totals() -> dict[str, float]:
    """The metrics added so far, summed by name (what EMF would publish)."""
    from capture_core.observability import metrics

    return {name: sum(entry["Value"]) for name, entry in metrics.metric_set.items()}
