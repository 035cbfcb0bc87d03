"""A Firehose client that injects faults, on a virtual clock, for delivery tests."""

from __future__ import annotations

import random
from collections import Counter
from typing import Any

from botocore.exceptions import ClientError, ReadTimeoutError


class VirtualClock:
    """Monotonic time that only moves when something sleeps or a call takes time."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


class FaultyFirehose:
    """PutRecordBatch with injected faults: per call, a whole-call error with probability
    `call_error_rate`, else each record fails with probability `record_failure_rate`.
    `accepted` counts how often each record's bytes were acknowledged."""

    def __init__(
        self,
        *,
        seed: int = 0,
        record_failure_rate: float = 0.0,
        call_error_rate: float = 0.0,
        call_error: str = "ThrottlingException",
        call_seconds: float = 0.01,
        clock: VirtualClock | None = None,
    ) -> None:
        self.random = random.Random(seed)
        self.record_failure_rate = record_failure_rate
        self.call_error_rate = call_error_rate
        self.call_error = call_error
        self.call_seconds = call_seconds
        self.clock = clock
        self.accepted: Counter[bytes] = Counter()
        self.calls = 0
        self.records_sent = 0

    def client(self, connect_timeout: float, read_timeout: float) -> _TimedView:
        """This Firehose as a client with these timeouts sees it (for `TimeBoundClients`)."""
        return _TimedView(self, connect_timeout + read_timeout)

    def put_record_batch(
        self, DeliveryStreamName: str, Records: list[dict[str, bytes]], timeout: float | None = None
    ) -> dict[str, Any]:
        self.calls += 1
        self.records_sent += len(Records)
        if timeout is not None and self.call_seconds > timeout:
            # The client gives up at its timeout; whether Firehose kept the records, it never says.
            if self.clock:
                self.clock.sleep(timeout)
            raise ReadTimeoutError(endpoint_url="https://firehose")
        if self.clock:
            self.clock.sleep(self.call_seconds)
        if self.random.random() < self.call_error_rate:
            if self.call_error == "ReadTimeout":
                raise ReadTimeoutError(endpoint_url="https://firehose")
            raise ClientError({"Error": {"Code": self.call_error, "Message": "injected"}}, "PutRecordBatch")
        responses = []
        for record in Records:
            if self.random.random() < self.record_failure_rate:
                responses.append({"ErrorCode": "ServiceUnavailableException", "ErrorMessage": "injected"})
            else:
                self.accepted[record["Data"]] += 1
                responses.append({"RecordId": str(self.calls)})
        failed = sum(1 for r in responses if "ErrorCode" in r)
        return {"FailedPutCount": failed, "Encrypted": False, "RequestResponses": responses}

    def stored_lines(self) -> list[bytes]:
        return [line for record, n in self.accepted.items() for _ in range(n) for line in record.splitlines()]


class _TimedView:
    def __init__(self, firehose: FaultyFirehose, timeout: float) -> None:
        self._firehose = firehose
        self.timeout = timeout

    def put_record_batch(self, DeliveryStreamName: str, Records: list[dict[str, bytes]]) -> dict[str, Any]:
        return self._firehose.put_record_batch(DeliveryStreamName, Records, timeout=self.timeout)
