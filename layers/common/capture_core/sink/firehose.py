"""Kinesis Data Firehose (docs/protocol.md §9): records sent in `PutRecordBatch` calls, and resent until
Firehose has acknowledged them all or the time given to Firehose is up."""

from __future__ import annotations

import base64
from collections.abc import Sequence
from typing import Any

import orjson
from botocore.exceptions import BotoCoreError, ClientError

from capture_core.aws_errors import error_code
from capture_core.observability import logger, metrics
from capture_core.sink.records import billed_bytes, plan_calls
from capture_core.sink.timing import Pacing

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
    """Sends records to one stream; resends only those that failed, as `pacing` allows.

    A stream that has just left records unacknowledged (throttling, an outage) is likely to do it
    again: for `calm_seconds` after that, a request gets one round of calls and no resends, so that
    while Firehose is in trouble requests reach the direct path at once instead of each spending
    the whole budget, which would multiply the functions' concurrency by it.
    """

    def __init__(self, pacing: Pacing, stream_name: str, *, calm_seconds: float = 30.0) -> None:
        self._pacing = pacing
        self._stream_name = stream_name
        self._calm_seconds = calm_seconds
        self._troubled_until = float("-inf")

    def send(self, records: Sequence[bytes], deadline: float) -> dict[int, str]:
        """Send `records`; the positions of those not acknowledged by `deadline`, each with why
        (`THROTTLED` or `FAILED`). Empty: Firehose has them all.

        The first round of calls may take until `deadline`: a healthy Firehose takes a large
        request's twelve 4 MiB calls one after the other. Resends stop at the budget."""
        pacing = self._pacing
        resend_until, resend = pacing.deadline(deadline), pacing.clock() >= self._troubled_until
        pending = list(range(len(records)))
        why: dict[int, str] = {}
        attempt = 0
        metrics.add_metric(name="FirehoseBilledBytes", unit="Bytes", value=billed_bytes(records))
        while pending:
            pending, healable = self._round(records, pending, deadline, why)
            deadline = min(deadline, resend_until)
            if not (pending and resend and healable):
                break
            attempt += 1
            metrics.add_metric(name="FirehoseRecordsRetried", unit="Count", value=len(pending))
            if not pacing.pause(attempt, deadline):
                break
        if not pending:
            self._troubled_until = float("-inf")
            return {}
        logger.warning("Firehose did not take every record", extra={"unacknowledged_records": len(pending)})
        if why:
            # Firehose itself refused or failed (records never sent for want of time say nothing
            # of it): expect the same for a while.
            self._troubled_until = pacing.clock() + self._calm_seconds
        return {i: why.get(i, FAILED) for i in pending}

    def can_call_by(self, deadline: float) -> bool:
        """Could a call that starts now end by `deadline`?"""
        return self._pacing.client(deadline) is not None

    def _round(
        self, records: Sequence[bytes], pending: list[int], deadline: float, why: dict[int, str]
    ) -> tuple[list[int], bool]:
        """One call per group of pending records: those to send again, and whether a resend can
        help (not after an error no retry heals)."""
        calls = [[pending[i] for i in call] for call in plan_calls([records[i] for i in pending])]
        unsent: list[int] = []
        for number, positions in enumerate(calls):
            client = self._pacing.client(deadline)
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
            why.update(dict.fromkeys(call, _reason(code)))
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
                why[position] = _reason(code)
                failed.append(position)
        return failed


def write_records_directly(client: Any) -> None:
    """Have `client` write its `PutRecordBatch` requests' records itself, with botocore's events.

    botocore writes a request's JSON with the standard library's encoder, which for a call of a few
    MiB of base64 costs about as much as everything else the call does (our own work on a 1,000
    event request included). So botocore is given each record's `Data` empty (it validates and
    writes the request as usual, and signs, retries and reads the answer as usual), and the body
    it wrote gets the records' base64 back, written by orjson, before the request is signed."""
    events = client.meta.events
    events.register("before-parameter-build.firehose.PutRecordBatch", _hold_records)
    events.register("before-call.firehose.PutRecordBatch", _write_records)


_HELD = "capture_core.records"
_EMPTY: dict[str, bytes] = {"Data": b""}


def _hold_records(params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
    records = params.get("Records")
    if isinstance(records, list) and all(
        isinstance(record, dict) and record.keys() == {"Data"} and type(record["Data"]) is bytes
        for record in records
    ):
        context[_HELD] = [record["Data"] for record in records]
        params["Records"] = [_EMPTY] * len(records)


def _write_records(params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
    held = context.pop(_HELD, None)
    if held is None:
        return
    document = orjson.loads(params["body"])
    for entry, data in zip(document["Records"], held, strict=True):
        entry["Data"] = base64.b64encode(data).decode("ascii")
    params["body"] = orjson.dumps(document)


def _reason(code: str) -> str:
    """Why Firehose did not take a record, from its error code: throttled, or failed."""
    return THROTTLED if code in THROTTLING_ERROR_CODES else FAILED


class _NonRetryable(Exception):
    """Firehose refused a call in a way no retry can heal."""
