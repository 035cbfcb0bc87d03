"""The v0 capture lane (docs/protocol.md §1–9): `/capture`, `/e`, `/i/v0/e`, `/track`, `/engage`, `/batch`.

Every stage in order: the request's bytes decoded to a payload, its batch read, its key found,
each event normalised into a stored line, the lines delivered. A 200 only once every line is
stored (in Firehose, or in S3 by the direct path).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

from aws_lambda_powertools.event_handler import Response

from capture_core.api import responses
from capture_core.api.request import HttpRequest, current_request
from capture_core.api.resolver import CaptureResolver, Doc, add_route
from capture_core.auth.quotas import EVENTS
from capture_core.events.lines import DropRules, SizeRule, stored_lines
from capture_core.lanes import shared
from capture_core.observability import metrics
from capture_core.settings import Settings
from capture_core.sink.delivery import deliver


class CaptureV0(shared.StoringLane):
    """Stores every event of a request, or raises the error that says why not."""

    def capture(self, request: HttpRequest, deadline: float) -> int:
        """Store every event of `request` by `deadline` (a monotonic time), or raise; returns how
        many events were stored."""
        settings = self.settings
        batch, project, arrival = shared.read_request(request, self.keys, settings, self.clock())
        if project.quotas.limits(EVENTS, arrival.now):
            # 200 and nothing stored, as PostHog answers: a refusal would make SDKs resend forever.
            metrics.add_metric(name="EventsDroppedByQuota", unit="Count", value=len(batch.events))
            return 0
        rule = SizeRule(settings.max_event_bytes, settings.max_stored_bytes)
        drops = DropRules.of(project.settings.drop_distinct_ids, project.settings.drop_event_names, "Events")
        deliver(self.sink, stored_lines(batch, arrival, rule, self.cookieless, drops), deadline)
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

    def capture_route() -> Response[str]:
        request = current_request(app, settings.max_request_bytes)
        lane.capture(request, deadline=shared.deadline(app, settings, clock))
        return responses.success(request.headers, beacon=request.query.get("beacon") == "1")

    for path in paths:
        name = path.strip("/").replace("/", "_")
        post = Doc(f"Capture events ({path}/)", "RESPONSES", f"post_{name}", (name,), "v0_capture_post")
        get = Doc(
            f"Capture events from the data query parameter ({path}/)",
            "RESPONSES",
            f"get_{name}",
            (name,),
            "v0_capture_get",
        )
        add_route(app, path, "POST", capture_route, post)
        add_route(app, path, "GET", capture_route, get)
        shared.add_preflight(app, path, f"options_{name}", (name,))
