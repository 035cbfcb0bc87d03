"""The session recordings lane (docs/protocol.md §12): `/s/`, where posthog-js sends `$snapshot` events.

Recordings pass the same stages as v0 events (decoding, batch, keys, stored lines, delivery) and
differ in their rules and their destination: each event must be a `$snapshot` that names its
session and carries its snapshot data, a project with recording off has them answered 200 and not
stored, a snapshot has no size limit of its own (a full snapshot over a Firehose record takes the
direct path to S3), and the lines go to a stream of their own.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable

from aws_lambda_powertools.event_handler import Response

from capture_core.api import responses
from capture_core.api.request import HttpRequest, current_request
from capture_core.api.resolver import CaptureResolver, Doc, add_route
from capture_core.api.routes import RECORDINGS_PATH
from capture_core.auth.quotas import RECORDINGS
from capture_core.errors import InvalidPayload
from capture_core.events.batch import Batch
from capture_core.events.lines import DropRules, SizeRule, stored_lines
from capture_core.lanes import shared
from capture_core.observability import metrics
from capture_core.settings import Settings
from capture_core.sink.delivery import deliver

# PostHog's capture service holds session ids to this: they name S3 objects and partitions later.
_SESSION_ID = re.compile(r"[A-Za-z0-9-]{1,70}")
SNAPSHOT_EVENT = "$snapshot"


def check_recording(batch: Batch) -> None:
    """Each event is a `$snapshot` that names its session and carries its snapshot data, else 400
    naming it: only recordings are stored apart from events."""
    for index, event in enumerate(batch.events):
        if event.get("event") != SNAPSHOT_EVENT:
            raise InvalidPayload(
                f'Only "{SNAPSHOT_EVENT}" events are recordings: send other events to /i/v0/e/.',
                attr=batch.attr(index, "event"),
            )
        properties = event.get("properties")
        if not isinstance(properties, dict):
            raise InvalidPayload(
                'A recording event needs "properties".', attr=batch.attr(index, "properties")
            )
        session = properties.get("$session_id")
        if not isinstance(session, str) or not _SESSION_ID.fullmatch(session):
            raise InvalidPayload(
                'A recording event needs "$session_id": at most 70 letters, digits and hyphens.',
                attr=batch.attr(index, "properties.$session_id"),
            )
        if not isinstance(properties.get("$snapshot_data"), list | dict):
            raise InvalidPayload(
                'A recording event needs "$snapshot_data", an array or object.',
                attr=batch.attr(index, "properties.$snapshot_data"),
            )


class Recordings(shared.StoringLane):
    """Stores every `$snapshot` event of a request in the recordings stream, or raises."""

    def capture(self, request: HttpRequest, deadline: float) -> tuple[str, ...]:
        """Store every recording event of `request` by `deadline`, or raise; returns the lanes over
        quota (nothing stored then), for the answer to name."""
        settings = self.settings
        batch, project, arrival = shared.read_request(request, self.keys, settings, self.clock())
        if project.quotas.limits(RECORDINGS, arrival.now):
            # posthog-js reads `quota_limited` and sends no recording for a minute, then tries again.
            metrics.add_metric(name="RecordingEventsDroppedByQuota", unit="Count", value=len(batch.events))
            return (RECORDINGS,)
        if not project.settings.session_recording:
            # 200 and nothing stored, as PostHog's capture answers: a browser may hold a remote
            # config up to its cache age after recording was turned off, and a refusal would show
            # as an error in every such page's console. Counted, so an operator sees it.
            metrics.add_metric(name="RecordingEventsIgnored", unit="Count", value=len(batch.events))
            return ()
        check_recording(batch)
        # A snapshot has no size limit of its own: whatever the request carries is stored.
        rule = SizeRule(max_event_bytes=None, max_total_bytes=settings.max_stored_bytes)
        drops = DropRules.of(project.settings.drop_distinct_ids, (), "RecordingEvents")
        deliver(self.sink, stored_lines(batch, arrival, rule, drops=drops), deadline)
        metrics.add_metric(name="RecordingEventsAccepted", unit="Count", value=len(batch.events))
        return ()


def add_routes(
    app: CaptureResolver,
    lane: Recordings,
    settings: Settings,
    *,
    clock: Callable[[], float] = time.monotonic,
) -> None:
    """Serve `/s` (with or without a trailing slash)."""

    def record() -> Response[str]:
        request = current_request(app, settings.max_request_bytes)
        limited = lane.capture(request, deadline=shared.deadline(app, settings, clock))
        return responses.success(
            request.headers, beacon=request.query.get("beacon") == "1", quota_limited=limited
        )

    add_route(
        app,
        RECORDINGS_PATH,
        "POST",
        record,
        Doc("Session recordings ($snapshot events)", "RECORDINGS_RESPONSES", "post_s", ("s",), "recordings"),
    )
    shared.add_preflight(app, RECORDINGS_PATH, "options_s", ("s",))
