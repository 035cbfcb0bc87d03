"""SPEC §9: packing events into Firehose records and calls, resending only failed records, the
backoff cap. Whole-call errors, outages and deadlines are tested through the handler in
test_delivery.py."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError
from capture_core.errors import SinkUnavailable
from capture_core.limits import FIREHOSE_MAX_BYTES_PER_CALL
from capture_core.sink.firehose import FirehoseSink, TimeBoundClients
from capture_core.sink.records import RecordPacker, billed_bytes, plan_calls


def pack_records(lines: list[bytes], max_record_bytes: int = 1_024_000) -> list[bytes]:
    packer = RecordPacker(max_record_bytes)
    for line in lines:
        packer.add(line)
    return packer.records()


def test_lines_are_packed_whole_into_records():
    lines = [b"a" * 399 + b"\n"] * 5
    records = pack_records(lines, max_record_bytes=1000)
    assert [len(r) for r in records] == [800, 800, 400]
    assert b"".join(records) == b"".join(lines)


def test_one_event_per_request_is_one_record():
    assert pack_records([b"{}\n"]) == [b"{}\n"]


def test_calls_hold_at_most_500_records():
    assert [len(call) for call in plan_calls([b"x"] * 1201)] == [500, 500, 201]


def test_calls_hold_at_most_4_mib():
    records = [b"x" * 1_000_000] * 9
    calls = list(plan_calls(records))
    assert all(sum(len(records[i]) for i in call) <= FIREHOSE_MAX_BYTES_PER_CALL for call in calls)
    assert [len(call) for call in calls] == [4, 4, 1]


def test_billing_rounds_each_record_up_to_5_kb():
    assert billed_bytes([b"x", b"x" * 5120, b"x" * 5121]) == 5120 * 4


class ScriptedFirehose:
    """Answers PutRecordBatch from a script: a callable per call, given the records."""

    def __init__(self, *answers: Any) -> None:
        self.answers = list(answers)
        self.calls: list[list[bytes]] = []

    def put_record_batch(self, DeliveryStreamName: str, Records: list[dict[str, bytes]]) -> dict[str, Any]:
        data = [r["Data"] for r in Records]
        self.calls.append(data)
        answer = self.answers.pop(0) if self.answers else ok
        return answer(data)


def ok(data: list[bytes]) -> dict[str, Any]:
    return {"FailedPutCount": 0, "RequestResponses": [{"RecordId": str(i)} for i in range(len(data))]}


def fail_every_other(data: list[bytes]) -> dict[str, Any]:
    responses = [
        {"ErrorCode": "ServiceUnavailableException"} if i % 2 else {"RecordId": "r"} for i in range(len(data))
    ]
    return {"FailedPutCount": len(data) // 2, "RequestResponses": responses}


def raise_error(code: str):
    def answer(data: list[bytes]) -> dict[str, Any]:
        raise ClientError({"Error": {"Code": code, "Message": code}}, "PutRecordBatch")

    return answer


def sink(client: ScriptedFirehose) -> FirehoseSink:
    clients = TimeBoundClients(lambda connect, read: client, [(0.5, 0.5)])
    return FirehoseSink(clients, "stream", clock=lambda: 0.0, sleep=lambda _: None)


def test_only_failed_records_are_resent():
    client = ScriptedFirehose(fail_every_other)
    sink(client).deliver([b"0", b"1", b"2", b"3"], deadline=10)
    assert client.calls == [[b"0", b"1", b"2", b"3"], [b"1", b"3"]]


def test_backoff_waits_grow_but_never_past_the_cap():
    waits: list[float] = []
    now = [0.0]

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        now[0] += seconds

    client = ScriptedFirehose(*[raise_error("ThrottlingException")] * 100)
    clients = TimeBoundClients(lambda connect, read: client, [(0.01, 0.01)])
    sink = FirehoseSink(
        clients,
        "stream",
        clock=lambda: now[0],
        sleep=sleep,
        max_delay=2.0,
        budget_seconds=30,
        jitter=lambda cap: cap,  # full jitter draws below the cap; the highest draw is the cap itself
    )
    with pytest.raises(SinkUnavailable):
        sink.deliver([b"r"], deadline=30)
    assert waits[:3] == [0.1, 0.2, 0.4]
    assert max(waits) == 2.0
