"""docs/protocol.md §9: packing lines into Firehose records and calls, resending only failed records, the
backoff cap, and the direct path's objects. Whole-call errors, outages and deadlines are tested
through the handler in test_delivery.py."""

from __future__ import annotations

import base64
import gzip
import json
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from capture_core.limits import FIREHOSE_MAX_BYTES_PER_CALL, FIREHOSE_MAX_RECORD_BYTES
from capture_core.settings import Settings
from capture_core.sink import direct
from capture_core.sink.delivery import Delivery
from capture_core.sink.firehose import FAILED, THROTTLED, FirehoseStream, write_records_directly
from capture_core.sink.records import RecordPacker, billed_bytes, plan_calls
from capture_core.sink.timing import Backoff, Pacing, TimeBoundClients
from fake_aws import json_response
from support.firehose import FaultyS3


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


def stream(client: ScriptedFirehose) -> FirehoseStream:
    """A stream on a clock that moves only when it waits."""
    now = [0.0]
    clients = TimeBoundClients(lambda connect, read: client, [(0.5, 0.5)])
    sleep = lambda seconds: now.__setitem__(0, now[0] + seconds)  # noqa: E731
    return FirehoseStream(Pacing(clients, 3.0, clock=lambda: now[0], sleep=sleep), "stream")


def test_only_failed_records_are_resent():
    client = ScriptedFirehose(fail_every_other)
    assert stream(client).send([b"0", b"1", b"2", b"3"], deadline=10) == {}
    assert client.calls == [[b"0", b"1", b"2", b"3"], [b"1", b"3"]]


def test_each_unacknowledged_record_says_why():
    # Records 1 and 3 were throttled, then every resend failed with an internal error.
    failing = ScriptedFirehose(fail_every_other, *[raise_error("InternalFailure")] * 100)
    assert stream(failing).send([b"0", b"1", b"2", b"3"], deadline=3) == {1: FAILED, 3: FAILED}
    throttled = ScriptedFirehose(fail_every_other, *[raise_error("ThrottlingException")] * 100)
    assert stream(throttled).send([b"0", b"1", b"2"], deadline=3) == {1: THROTTLED}


def test_backoff_waits_grow_but_never_past_the_cap():
    waits: list[float] = []
    now = [0.0]

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        now[0] += seconds

    client = ScriptedFirehose(*[raise_error("ThrottlingException")] * 100)
    clients = TimeBoundClients(lambda connect, read: client, [(0.01, 0.01)])
    # full jitter draws below the cap; the highest draw is the cap itself
    backoff = Backoff(max_delay=2.0, jitter=lambda cap: cap)
    sink = FirehoseStream(Pacing(clients, 30, clock=lambda: now[0], sleep=sleep, backoff=backoff), "stream")
    assert sink.send([b"r"], deadline=30) == {0: THROTTLED}
    assert waits[:3] == [0.1, 0.2, 0.4]
    assert max(waits) == 2.0


# The direct path.


def direct_path(s3: FaultyS3, prefix: str = Settings().recordings_prefix) -> direct.DirectPath:
    return direct.DirectPath(
        Pacing(
            TimeBoundClients(s3.client, direct.CALL_TIMEOUTS), 3.0, clock=lambda: 0.0, sleep=lambda _: None
        ),
        "bucket",
        prefix,
        "capture-recordings",
        now=lambda: datetime(2026, 12, 7, 4, 5, 6, tzinfo=UTC),
        object_ids=lambda: "id",
    )


def test_a_direct_object_is_gzipd_ndjson_in_firehoses_hour_partition_named_as_direct():
    s3 = FaultyS3()
    assert direct_path(s3).write([b'{"a":1}\n', b'{"b":2}\n{"c":3}\n'], deadline=10)
    ((key, body),) = s3.objects.items()
    assert (
        key
        == "recordings/year=2026/month=12/day=07/hour=04/direct-capture-recordings-2026-12-07-04-05-06-id.gz"
    )
    assert gzip.decompress(body) == b'{"a":1}\n{"b":2}\n{"c":3}\n'


def test_a_prefix_the_direct_path_cannot_evaluate_is_refused_when_it_is_made():
    with pytest.raises(ValueError, match="firehose:random-string"):
        direct_path(FaultyS3(), "events/!{firehose:random-string}/")


def test_a_line_over_a_firehose_record_goes_to_s3_and_the_rest_to_firehose():
    client, s3 = ScriptedFirehose(), FaultyS3()
    sink = Delivery(stream(client), direct_path(s3))
    big = b'"' + b"x" * FIREHOSE_MAX_RECORD_BYTES + b'"\n'
    lines = [b"1\n", big, b"2\n"]
    assert sink.send(lines, deadline=10) == []
    assert client.calls == [[b"1\n2\n"]]
    assert s3.stored_lines() == [big.rstrip(b"\n")]
    assert lines == [b"", b"", b""]  # released once packed


def test_without_s3_a_line_over_a_record_is_unstored():
    s3 = FaultyS3(error_rate=1.0, error="AccessDenied")
    big = b"x" * (FIREHOSE_MAX_RECORD_BYTES + 1)
    assert Delivery(stream(ScriptedFirehose()), direct_path(s3)).send([b"1\n", big], deadline=10) == [1]


def test_every_line_of_a_request_is_in_one_of_the_two_places():
    client = ScriptedFirehose(fail_every_other, *[raise_error("ServiceUnavailableException")] * 100)
    s3 = FaultyS3()
    sink = Delivery(stream(client), direct_path(s3), max_record_bytes=20)
    lines = [json.dumps({"n": n}).encode() + b"\n" for n in range(30)]
    expected = list(lines)
    assert sink.send(lines, deadline=10) == []
    acknowledged = [line for record in client.calls[0][0::2] for line in record.splitlines(keepends=True)]
    in_s3 = [line + b"\n" for line in s3.stored_lines()]
    assert sorted(acknowledged + in_s3) == sorted(expected)
    assert not set(acknowledged) & set(in_s3)


def firehose_request_body(prepare: bool, records: list[dict[str, Any]]) -> dict[str, Any]:
    """The JSON a Firehose client sends for `put_record_batch(Records=records)`, as the service
    would read it (the call is answered before it leaves the process)."""
    client = boto3.session.Session(
        aws_access_key_id="test", aws_secret_access_key="test", region_name="us-east-1"
    ).client("firehose")
    if prepare:
        write_records_directly(client)
    sent: dict[str, Any] = {}

    def answer(request: Any, **_: Any) -> Any:
        assert request.body == sent.pop("body_when_signed")
        assert request.headers["Authorization"].startswith(b"AWS4-HMAC-SHA256")
        sent.update(json.loads(request.body))
        sent["compact"] = b'","Records":[{"Data":"' in request.body  # orjson's; botocore writes ", "
        acknowledged = [{"RecordId": "r"}] * len(records)
        return json_response(request, {"FailedPutCount": 0, "RequestResponses": acknowledged})

    def created(request: Any, **_: Any) -> None:
        # The request is signed when it is made: its body must be final by then.
        sent["body_when_signed"] = request.body

    client.meta.events.register("request-created.firehose.PutRecordBatch", created)
    client.meta.events.register("before-send.firehose.PutRecordBatch", answer)
    client.put_record_batch(DeliveryStreamName="events", Records=records)
    return sent


def test_records_written_by_orjson_are_what_botocore_would_send():
    records = [{"Data": b'{"event":"a"}\n' * 1000}, {"Data": bytes(range(256)) * 10}, {"Data": b""}]
    mine, botocores = firehose_request_body(True, records), firehose_request_body(False, records)
    assert (mine.pop("compact"), botocores.pop("compact")) == (True, False)
    assert mine == botocores
    assert [base64.b64decode(record["Data"]) for record in mine["Records"]] == [r["Data"] for r in records]


def test_records_of_another_shape_are_left_to_botocore():
    sent = firehose_request_body(True, [{"Data": bytearray(b"x")}])
    assert (sent["Records"], sent["compact"]) == ([{"Data": "eA=="}], False)
