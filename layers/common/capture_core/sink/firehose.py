"""Delivery to Kinesis Data Firehose (SPEC §9): records sent in calls, and resent until Firehose
has acknowledged them all or the time is up."""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from botocore.exceptions import BotoCoreError, ClientError

from capture_core.aws_errors import error_code
from capture_core.errors import SinkUnavailable
from capture_core.observability import logger, metrics
from capture_core.sink.records import billed_bytes, plan_calls

# Firehose answers these when it cannot take records *now*; anything else will not heal by retrying.
RETRYABLE_ERROR_CODES = frozenset(
    {
        "ServiceUnavailableException",
        "ThrottlingException",
        "LimitExceededException",
        "InternalFailure",
        "InternalServerError",
        "ServiceUnavailable",
        "RequestTimeout",
        "RequestTimeoutException",
    }
)


class EventSink(Protocol):
    """Where the stored events go."""

    def send(self, records: Sequence[bytes], deadline: float) -> list[int]:
        """Send `records`; the positions of those not acknowledged by `deadline` (none: all stored)."""
        ...

    def deliver(self, records: Sequence[bytes], deadline: float) -> None:
        """Return only once every record is acknowledged; else raise `SinkUnavailable`."""
        ...


def deliver_all(sink: EventSink, records: Sequence[bytes], deadline: float) -> None:
    if sink.send(records, deadline):
        raise SinkUnavailable("The events could not be stored now; retry the request.")


@dataclass
class MemorySink:
    """An in-memory sink for tests and benchmarks."""

    records: list[bytes] = field(default_factory=list)

    def send(self, records: Sequence[bytes], deadline: float) -> list[int]:
        self.records.extend(records)
        return []

    def deliver(self, records: Sequence[bytes], deadline: float) -> None:
        deliver_all(self, records, deadline)


# (connect, read) timeouts of a Firehose call, longest first. botocore fixes a client's timeouts
# when it is made, so a call near the deadline goes through a client whose timeouts end before it.
CALL_TIMEOUTS = ((1.0, 2.0), (0.5, 1.0), (0.25, 0.5), (0.1, 0.25))


class TimeBoundClients:
    """Firehose clients by timeout, made on first use by `make(connect_timeout, read_timeout)`."""

    def __init__(
        self, make: Callable[[float, float], Any], timeouts: Sequence[tuple[float, float]] = CALL_TIMEOUTS
    ) -> None:
        self._make = make
        self._timeouts = sorted(timeouts, key=sum, reverse=True)
        self._clients: dict[tuple[float, float], Any] = {}

    def fits(self, seconds: float) -> bool:
        """Can any call end within `seconds`?"""
        return sum(self._timeouts[-1]) <= seconds

    def within(self, seconds: float) -> Any | None:
        """The client with the longest timeouts that still end within `seconds`, or None."""
        for timeouts in self._timeouts:
            if sum(timeouts) <= seconds:
                if timeouts not in self._clients:
                    self._clients[timeouts] = self._make(*timeouts)
                return self._clients[timeouts]
        return None


class FirehoseSink:
    """Delivers records with PutRecordBatch; resends only failed records, with capped exponential
    backoff and full jitter (`jitter(cap)` draws a wait in [0, cap]), for at most `budget_seconds`
    and never past `deadline` (a `clock()` value: the Lambda's own time, less a margin to answer in).

    Every call, the first included, goes through a client whose timeouts end by the deadline, and
    a call that cannot is not made: the answer never comes after the deadline.
    """

    def __init__(
        self,
        clients: TimeBoundClients,
        stream_name: str,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        base_delay: float = 0.05,
        max_delay: float = 2.0,
        budget_seconds: float = 8.0,
        jitter: Callable[[float], float] = lambda cap: random.uniform(0, cap),  # noqa: S311
    ) -> None:
        self._jitter = jitter
        self._budget_seconds = budget_seconds
        self._clients = clients
        self._stream_name = stream_name
        self._clock = clock
        self._sleep = sleep
        self._base_delay = base_delay
        self._max_delay = max_delay

    def deliver(self, records: Sequence[bytes], deadline: float) -> None:
        deliver_all(self, records, deadline)

    def send(self, records: Sequence[bytes], deadline: float) -> list[int]:
        deadline = min(deadline, self._clock() + self._budget_seconds)
        pending = list(range(len(records)))
        attempt = 0
        metrics.add_metric(name="FirehoseBilledBytes", unit="Bytes", value=billed_bytes(records))
        while True:
            unsent: list[int] = []
            calls = [[pending[i] for i in call] for call in plan_calls([records[i] for i in pending])]
            for number, call in enumerate(calls):
                client = self._clients.within(deadline - self._clock())
                if client is None:
                    unsent.extend(call)
                    continue
                try:
                    unsent.extend(self._put(client, call, records))
                except _NonRetryable:
                    # Nothing more can be stored now: what is not acknowledged stays unsent.
                    return sorted([*unsent, *call, *(i for later in calls[number + 1 :] for i in later)])
            pending = unsent
            if not pending:
                return []
            attempt += 1
            metrics.add_metric(name="FirehoseRecordsRetried", unit="Count", value=len(pending))
            delay = self._jitter(min(self._max_delay, self._base_delay * 2**attempt))
            if not self._clients.fits(deadline - self._clock() - delay):
                logger.warning("Firehose delivery ran out of time", extra={"unsent_records": len(pending)})
                return pending
            self._sleep(delay)

    def _put(self, client: Any, call: list[int], records: Sequence[bytes]) -> list[int]:
        """Send one call of the records at positions `call`; return those to send again."""
        metrics.add_metric(name="FirehoseCalls", unit="Count", value=1)
        metrics.add_metric(name="FirehoseRecords", unit="Count", value=len(call))
        try:
            response = client.put_record_batch(
                DeliveryStreamName=self._stream_name, Records=[{"Data": records[i]} for i in call]
            )
        except ClientError as error:
            code = error_code(error)
            if code not in RETRYABLE_ERROR_CODES:
                # A missing stream or a missing permission: retrying cannot help, and the operator
                # must know. The client still gets 503: its events are not lost, just not taken yet.
                logger.error("Firehose rejected the call", extra={"error_code": code})
                metrics.add_metric(name="FirehoseNonRetryableErrors", unit="Count", value=1)
                raise _NonRetryable from error
            logger.warning("Firehose call failed", extra={"error_code": code})
            return call
        except BotoCoreError as error:
            logger.warning("Firehose call failed", extra={"error_code": error_code(error)})
            return call
        if not response.get("FailedPutCount"):
            return []
        return [
            i for i, result in zip(call, response["RequestResponses"], strict=True) if result.get("ErrorCode")
        ]


class _NonRetryable(Exception):
    """Firehose refused a call in a way no retry can heal."""
