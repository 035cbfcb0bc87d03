"""The health check (`GET /_health`): can this stack reach what a capture needs, right now?

It asks for the key table's and both streams' descriptions (DynamoDB `DescribeTable`, Firehose
`DescribeDeliveryStream`): a missing resource, a lost permission or an unreachable endpoint shows
here before it shows as a client's 503. It reads no item and stores no record, so it needs no key.
It answers 200 `{"status": "ok", "checks": {...}}`, or 503 in the contract's error format with the
code the same fault gives a capture (`auth_unavailable` for the table, `sink_unavailable` for a
stream) and `attr` naming the first failed check.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools.event_handler import Response
from botocore.exceptions import BotoCoreError, ClientError

from capture_core.api import responses
from capture_core.api.request import request_headers
from capture_core.api.resolver import CaptureResolver, Doc, add_route
from capture_core.api.routes import HEALTH_PATH
from capture_core.aws_errors import error_code
from capture_core.errors import AuthUnavailable, ServiceUnavailable, SinkUnavailable
from capture_core.observability import logger
from capture_core.settings import Settings

# The route needs no key, so anyone may call it as often as they like: each container asks AWS
# at most once per this many seconds, and Firehose's DescribeDeliveryStream quota (a few calls a
# second per account) is never spent by a flood of health checks.
CACHE_SECONDS = 10.0
OK = "ok"
# States in which a resource still serves what capture asks of it.
_TABLE_SERVING = frozenset({"ACTIVE", "UPDATING"})
_STREAM_SERVING = frozenset({"ACTIVE"})


@dataclass(frozen=True, slots=True)
class Check:
    """One resource the functions depend on, and the error its failure means to a client."""

    name: str
    service: str  # the AWS client it is asked through
    resource: str
    failure: type[ServiceUnavailable]


def stack_checks(settings: Settings) -> tuple[Check, ...]:
    """What the functions need: the key table, then both streams."""
    return (
        Check("api_keys_table", "dynamodb", settings.api_keys_table_name, AuthUnavailable),
        Check("events_stream", "firehose", settings.events_stream_name, SinkUnavailable),
        Check("recordings_stream", "firehose", settings.recordings_stream_name, SinkUnavailable),
    )


class Health:
    """Runs the checks through AWS clients made on first use (`client(service)`), and keeps the
    result for `cache_seconds`."""

    def __init__(
        self,
        client: Callable[[str], Any],
        checks: tuple[Check, ...],
        *,
        cache_seconds: float = CACHE_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client = client
        self._clients: dict[str, Any] = {}
        self._checks = checks
        self._cache_seconds = cache_seconds
        self._clock = clock
        self._result: dict[str, str] | None = None
        self._expires = 0.0

    def report(self) -> dict[str, str]:
        """Each check's state: `ok`, else what went wrong (an AWS error code or a resource state)."""
        now = self._clock()
        if self._result is None or now >= self._expires:
            self._result = {check.name: self._probe(check) for check in self._checks}
            self._expires = now + self._cache_seconds
        return dict(self._result)

    def check(self) -> dict[str, str]:
        """The report when every check is ok; else the first failed check's error."""
        report = self.report()
        failed = [check for check in self._checks if report[check.name] != OK]
        if failed:
            logger.warning("Health check failed", extra={"checks": report})
            summary = ", ".join(f"{check.name}: {report[check.name]}" for check in failed)
            raise failed[0].failure(f"Not reachable now ({summary}).", attr=failed[0].name)
        return report

    def _probe(self, check: Check) -> str:
        if check.service not in self._clients:
            self._clients[check.service] = self._client(check.service)
        client = self._clients[check.service]
        try:
            if check.service == "dynamodb":
                state = client.describe_table(TableName=check.resource)["Table"]["TableStatus"]
                return OK if state in _TABLE_SERVING else str(state)
            description = client.describe_delivery_stream(DeliveryStreamName=check.resource)
            state = description["DeliveryStreamDescription"]["DeliveryStreamStatus"]
            return OK if state in _STREAM_SERVING else str(state)
        except (ClientError, BotoCoreError) as error:
            return error_code(error)


def add_routes(app: CaptureResolver, health: Health) -> None:
    """Serve `GET /_health` (with or without a trailing slash)."""

    def health_check() -> Response[str]:
        report = health.check()
        return responses.document(
            {"status": OK, "checks": report}, request_headers(app), cache_control="no-store"
        )

    doc = Doc(
        "Health: the key table and both streams are reachable", "HEALTH_RESPONSES", "get_health", ("health",)
    )
    add_route(app, HEALTH_PATH, "GET", health_check, doc)
