"""Kinesis Data Firehose (SPEC §9): records sent in `PutRecordBatch` calls, and resent until
Firehose has acknowledged them all or the time given to Firehose is up."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from capture_core.aws_errors import error_code
from capture_core.observability import logger, metrics
from capture_core.sink.records import billed_bytes, plan_calls
from capture_core.sink.timing import Backoff, TimeBoundClients, pause_before_retry

# (connect, read) timeouts of a Firehose call, longest first.
CALL_TIMEOUTS = ((1.0, 2.0), (0.5, 1.0), (0.25, 0.5), (0.1, 0.25))
# Firehose answers these when a stream is over its limits (2,000 calls/s and 5 MiB/s by default;
# a record's `ServiceUnavailableException` is its "Slow down.").
THROTTLING_ERROR_CODES = frozenset(
    {"ServiceUnavailableException", "ThrottlingException", "LimitExceededException"}
)
# These, and the throttling codes, say Firehose cannot take records *now*; anything else (a
# missing stream, a lost permission) will not heal by retrying.
RETRYABLE_ERROR_CODES = THROTTLING_ERROR_CODES | {
    "InternalFailure",
    "InternalServerError",
    "ServiceUnavailable",
    "RequestTimeout",
    "RequestTimeoutException",
}
# Why a record was not acknowledged, as the direct path's metrics count it.
THROTTLED, FAILED = "throttled", "failed"


class FirehoseStream:
    """Sends records to one stream; resends only those that failed, waiting `backoff` between
    rounds, for at most `budget_seconds` and never past the caller's deadline (a `clock()` value).

    A stream that has just left records unacknowledged (throttling, an outage) is likely to do it
    again: for `calm_seconds` after that, a request gets one round of calls and no resends, so that
    while Firehose is in trouble requests reach the direct path at once instead of each spending
    the whole budget, which would multiply the functions' concurrency by it.
    """

    def __init__(
        self,
        clients: TimeBoundClients,
        stream_name: str,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        backoff: Backoff = Backoff(),  # noqa: B008 (immutable)
        budget_seconds: float = 3.0,
        calm_seconds: float = 30.0,
    ) -> None:
        self._clients = clients
        self._stream_name = stream_name
        self._clock = clock
        self._sleep = sleep
        self._backoff = backoff
        self._budget_seconds = budget_seconds
        self._calm_seconds = calm_seconds
        self._troubled_until = float("-inf")

    def send(self, records: Sequence[bytes], deadline: float) -> dict[int, str]:
        """Send `records`; the positions of those not acknowledged by `deadline`, each with why
        (`THROTTLED` or `FAILED`). Empty: Firehose has them all."""
        started = self._clock()
        deadline = min(deadline, started + self._budget_seconds)
        resend = started >= self._troubled_until
        pending = list(range(len(records)))
        why: dict[int, str] = {}
        attempt = 0
        metrics.add_metric(name="FirehoseBilledBytes", unit="Bytes", value=billed_bytes(records))
        while pending:
            pending, healable = self._round(records, pending, deadline, why)
            if not (pending and resend and healable):
                break
            attempt += 1
            metrics.add_metric(name="FirehoseRecordsRetried", unit="Count", value=len(pending))
            if not pause_before_retry(
                self._backoff, attempt, self._clients, deadline, clock=self._clock, sleep=self._sleep
            ):
                break
        if pending:
            logger.warning(
                "Firehose did not take every record", extra={"unacknowledged_records": len(pending)}
            )
            self._troubled_until = self._clock() + self._calm_seconds
            return {i: why.get(i, FAILED) for i in pending}
        self._troubled_until = float("-inf")
        return {}

    def _round(
        self, records: Sequence[bytes], pending: list[int], deadline: float, why: dict[int, str]
    ) -> tuple[list[int], bool]:
        """One call per group of pending records: those to send again, and whether a resend can
        help (not after an error no retry heals)."""
        calls = [[pending[i] for i in call] for call in plan_calls([records[i] for i in pending])]
        unsent: list[int] = []
        for number, positions in enumerate(calls):
            client = self._clients.within(deadline - self._clock())
            if client is None:
                unsent.extend(positions)
                continue
            try:
                unsent.extend(self._put(client, positions, records, why))
            except _NonRetryable:
                return [*unsent, *(p for later in calls[number:] for p in later)], False
        return unsent, True

    def _put(self, client: Any, call: list[int], records: Sequence[bytes], why: dict[int, str]) -> list[int]:
        """Send one call of the records at positions `call`; return those to send again."""
        metrics.add_metric(name="FirehoseCalls", unit="Count", value=1)
        metrics.add_metric(name="FirehoseRecords", unit="Count", value=len(call))
        try:
            response = client.put_record_batch(
                DeliveryStreamName=self._stream_name, Records=[{"Data": records[i]} for i in call]
            )
        except ClientError as error:
            code = error_code(error)
            why.update(dict.fromkeys(call, THROTTLED if code in THROTTLING_ERROR_CODES else FAILED))
            if code not in RETRYABLE_ERROR_CODES:
                # A missing stream or a missing permission: retrying cannot help, and the operator
                # must know. The records take the direct path meanwhile.
                logger.error("Firehose rejected the call", extra={"error_code": code})
                metrics.add_metric(name="FirehoseNonRetryableErrors", unit="Count", value=1)
                raise _NonRetryable from error
            logger.warning("Firehose call failed", extra={"error_code": code})
            return call
        except BotoCoreError as error:
            logger.warning("Firehose call failed", extra={"error_code": error_code(error)})
            why.update(dict.fromkeys(call, FAILED))
            return call
        if not response.get("FailedPutCount"):
            return []
        failed = []
        for position, result in zip(call, response["RequestResponses"], strict=True):
            if code := result.get("ErrorCode"):
                why[position] = THROTTLED if code in THROTTLING_ERROR_CODES else FAILED
                failed.append(position)
        return failed


class _NonRetryable(Exception):
    """Firehose refused a call in a way no retry can heal."""
