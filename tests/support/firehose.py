"""Firehose and S3 clients that inject faults, on a virtual clock, for delivery tests."""

from __future__ import annotations

import gzip
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


class FaultyS3:
    """PutObject with injected faults: each call fails with probability `error_rate` (`error`: an
    S3 error code, or "ReadTimeout"). `objects` holds what was stored, by key."""

    def __init__(
        self,
        *,
        seed: int = 0,
        error_rate: float = 0.0,
        error: str = "SlowDown",
        call_seconds: float = 0.05,
        clock: VirtualClock | None = None,
    ) -> None:
        self.random = random.Random(seed)
        self.error_rate = error_rate
        self.error = error
        self.call_seconds = call_seconds
        self.clock = clock
        self.objects: dict[str, bytes] = {}
        self.calls: list[str] = []  # the key of each call

    def client(self, connect_timeout: float, read_timeout: float) -> _TimedS3:
        return _TimedS3(self, connect_timeout + read_timeout)

    def put_object(self, Bucket: str, Key: str, Body: bytes, timeout: float | None = None) -> dict[str, Any]:
        self.calls.append(Key)
        if timeout is not None and self.call_seconds > timeout:
            if self.clock:
                self.clock.sleep(timeout)
            raise ReadTimeoutError(endpoint_url="https://s3")
        if self.clock:
            self.clock.sleep(self.call_seconds)
        if self.random.random() < self.error_rate:
            if self.error == "ReadTimeout":
                raise ReadTimeoutError(endpoint_url="https://s3")
            raise ClientError({"Error": {"Code": self.error, "Message": "injected"}}, "PutObject")
        self.objects[Key] = Body
        return {"ETag": '"x"'}

    def stored_lines(self) -> list[bytes]:
        return [line for body in self.objects.values() for line in gzip.decompress(body).splitlines()]


class _TimedS3:
    def __init__(self, s3: FaultyS3, timeout: float) -> None:
        self._s3 = s3
        self.timeout = timeout

    def put_object(self, Bucket: str, Key: str, Body: bytes) -> dict[str, Any]:
        return self._s3.put_object(Bucket, Key, Body, timeout=self.timeout)
