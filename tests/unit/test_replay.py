"""`python -m capture_admin.replay`: Firehose's error output (JSON lines, the record base64'd in
`rawData`) is decoded and sent back to its stream, every record exactly once when Firehose takes it."""

from __future__ import annotations

import base64
import gzip
import io
import json
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError
from capture_admin import replay as tool
from capture_core.limits import FIREHOSE_MAX_RECORDS_PER_CALL
from capture_core.sink.firehose import RETRYABLE_ERROR_CODES
from capture_local.template import Template


def error_line(record: bytes, **extra: Any) -> bytes:
    document = {
        "attemptsMade": 4,
        "arrivalTimestamp": 1767225600000,
        "errorCode": "Lambda.FunctionError",
        "errorMessage": "injected",
        "attemptEndingTimestamp": 1767225660000,
        "rawData": base64.b64encode(record).decode(),
        **extra,
    }
    return json.dumps(document).encode() + b"\n"


def events(*names: str) -> bytes:
    return b"".join(json.dumps({"uuid": name, "event": name}).encode() + b"\n" for name in names)


class FakeS3:
    def __init__(self, objects: dict[str, bytes]) -> None:
        self.objects = dict(objects)
        self.deleted: list[str] = []

    def get_paginator(self, name: str) -> FakeS3:
        assert name == "list_objects_v2"
        return self

    def paginate(self, Bucket: str, Prefix: str) -> list[dict[str, Any]]:
        keys = sorted(key for key in self.objects if key.startswith(Prefix))
        # Two pages, as S3 answers past 1,000 keys.
        return [
            {"Contents": [{"Key": key} for key in keys[:1]]},
            {"Contents": [{"Key": key} for key in keys[1:]]},
        ]

    def get_object(self, Bucket: str, Key: str) -> dict[str, Any]:
        return {"Body": io.BytesIO(self.objects[Key])}

    def delete_object(self, Bucket: str, Key: str) -> None:
        self.deleted.append(Key)
        del self.objects[Key]


class FakeFirehose:
    """Takes every record, except that the first `fail_first` records sent fail once each."""

    def __init__(self, fail_first: int = 0, always_fail: bool = False, error: str | None = None) -> None:
        self.accepted: list[bytes] = []
        self.calls: list[int] = []
        self.fail_first = fail_first
        self.always_fail = always_fail
        self.error = error

    def put_record_batch(self, DeliveryStreamName: str, Records: list[dict[str, bytes]]) -> dict[str, Any]:
        assert DeliveryStreamName == "events-stream"
        if self.error:
            raise ClientError({"Error": {"Code": self.error, "Message": "injected"}}, "PutRecordBatch")
        self.calls.append(len(Records))
        results = []
        for record in Records:
            if self.always_fail or self.fail_first > 0:
                self.fail_first -= 1
                results.append({"ErrorCode": "ServiceUnavailableException", "ErrorMessage": "busy"})
            else:
                self.accepted.append(record["Data"])
                results.append({"RecordId": "r"})
        failed = sum(1 for result in results if "ErrorCode" in result)
        return {"FailedPutCount": failed, "RequestResponses": results}


def run(s3: FakeS3, firehose: FakeFirehose, **options: Any) -> tool.Summary:
    return tool.replay(
        s3,
        firehose,
        bucket="bucket",
        prefix="errors/events/",
        stream="events-stream",
        sleep=lambda _: None,
        **options,
    )


RECORD_A, RECORD_B = events("a1", "a2"), events("b1")
OBJECTS = {
    "errors/events/processing-failed/year=2026/month=01/day=01/one.gz": gzip.compress(
        error_line(RECORD_A) + error_line(RECORD_B)
    ),
    "errors/events/processing-failed/year=2026/month=01/day=02/two": error_line(events("c1")),
    "events/year=2026/month=01/day=01/hour=00/not-an-error.gz": b"ignored",
}


def test_every_record_is_decoded_and_sent_back_once():
    s3, firehose = FakeS3(OBJECTS), FakeFirehose()
    summary = run(s3, firehose)
    assert sorted(firehose.accepted) == sorted([RECORD_A, RECORD_B, events("c1")])
    assert (summary.objects, summary.records, summary.events, summary.sent) == (2, 3, 4, 3)
    assert s3.deleted == []


def test_failed_records_are_resent_until_firehose_takes_them():
    firehose = FakeFirehose(fail_first=2)
    summary = run(FakeS3(OBJECTS), firehose)
    assert sorted(firehose.accepted) == sorted([RECORD_A, RECORD_B, events("c1")])
    assert (summary.sent, summary.failed) == (3, 0)


def test_records_firehose_never_takes_are_reported_and_their_objects_kept():
    s3 = FakeS3(OBJECTS)
    summary = run(s3, FakeFirehose(always_fail=True), delete=True)
    assert (summary.sent, summary.failed, summary.deleted) == (0, 3, 0)
    assert len(summary.failed_objects) == 2
    assert s3.deleted == []


def test_delete_removes_only_objects_whose_records_were_all_sent():
    s3 = FakeS3(OBJECTS)
    summary = run(s3, FakeFirehose(), delete=True)
    assert summary.deleted == 2
    assert set(s3.objects) == {"events/year=2026/month=01/day=01/hour=00/not-an-error.gz"}


def test_a_dry_run_counts_and_sends_nothing():
    firehose = FakeFirehose()
    summary = run(FakeS3(OBJECTS), firehose, dry_run=True)
    assert (summary.records, summary.events, summary.sent) == (3, 4, 0)
    assert firehose.calls == []


def test_lines_without_raw_data_are_counted_and_skipped():
    body = b'{"errorCode": "x"}\nnot json\n' + error_line(RECORD_A) + b'{"rawData": "%%%"}\n'
    summary = run(FakeS3({"errors/events/x": body}), FakeFirehose())
    assert (summary.records, summary.unreadable_lines) == (1, 3)


def test_calls_hold_at_most_500_records():
    lines = b"".join(error_line(events(f"e{i}")) for i in range(1201))
    firehose = FakeFirehose()
    run(FakeS3({"errors/events/many": lines}), firehose)
    assert firehose.calls == [FIREHOSE_MAX_RECORDS_PER_CALL, FIREHOSE_MAX_RECORDS_PER_CALL, 201]


def test_a_call_firehose_refuses_outright_stops_the_replay():
    with pytest.raises(ClientError):
        run(FakeS3(OBJECTS), FakeFirehose(error="ResourceNotFoundException"))


@pytest.mark.parametrize(
    ("prefix", "output"),
    [
        ("errors/events/", "EventsStreamName"),
        ("errors/events/processing-failed/year=2026/", "EventsStreamName"),
        ("errors/recordings/", "RecordingsStreamName"),
    ],
)
def test_the_prefix_names_its_stream(prefix: str, output: str):
    assert tool.stream_for_prefix(prefix) == output


def test_a_prefix_outside_the_error_output_needs_a_stream_name():
    with pytest.raises(tool.ReplayError):
        tool.stream_for_prefix("events/")


def test_the_cli_refuses_dry_run_with_delete(capsys: pytest.CaptureFixture[str]):
    code = tool.main(
        ["--prefix", "errors/events/", "--bucket", "b", "--stream-name", "s", "--dry-run", "--delete"]
    )
    assert code == 2
    assert "--dry-run" in capsys.readouterr().err


def test_the_error_prefixes_are_the_templates():
    template = Template.load(Path(__file__).resolve().parents[2] / "template.yaml")
    prefixes = {
        template.properties(stream)["ExtendedS3DestinationConfiguration"]["ErrorOutputPrefix"].split("!")[0]
        for stream in template.logical_ids_of_type("AWS::KinesisFirehose::DeliveryStream")
    }
    assert prefixes == set(tool.STREAM_OUTPUTS)
    assert set(tool.STREAM_OUTPUTS.values()) <= set(template.document["Outputs"])


class FailsOnce(FakeFirehose):
    """Refuses its first call with `code`, then takes every record."""

    def __init__(self, code: str) -> None:
        super().__init__()
        self.code: str | None = code

    def put_record_batch(self, DeliveryStreamName: str, Records: list[dict[str, bytes]]) -> dict[str, Any]:
        if self.code is not None:
            code, self.code = self.code, None
            raise ClientError({"Error": {"Code": code, "Message": "injected"}}, "PutRecordBatch")
        return super().put_record_batch(DeliveryStreamName, Records)


@pytest.mark.parametrize("code", sorted(RETRYABLE_ERROR_CODES))
def test_a_call_refused_for_a_reason_the_sink_retries_is_retried_here_too(code: str):
    firehose = FailsOnce(code)
    summary = run(FakeS3(OBJECTS), firehose)
    assert (summary.sent, summary.failed) == (3, 0)
