"""Firehose, DynamoDB and S3 answered at the boto level: the real clients build, serialise and
sign each request, and botocore's `before-send` event answers it instead of the network."""

from __future__ import annotations

import json
import os
from typing import Any

from botocore.awsrequest import AWSResponse


class FakeAws:
    """Answers Firehose, DynamoDB and S3's PutObject (the direct path) at the boto level, counting
    Firehose calls and S3 objects. With `throttle_firehose` (or BENCH_FIREHOSE=throttle in the
    environment), Firehose answers every call "Slow down.", as a stream over its limits does."""

    def __init__(self, throttle_firehose: bool | None = None) -> None:
        if throttle_firehose is None:
            throttle_firehose = os.environ.get("BENCH_FIREHOSE") == "throttle"
        self.throttle_firehose = throttle_firehose
        self.firehose_calls = 0
        self.firehose_records = 0
        self.s3_objects = 0
        self._pending_records = 0

    def install_everywhere(self) -> None:
        """Answer for every boto3 session made from now on (the functions make their own)."""
        import boto3.session

        fake = self
        original = boto3.session.Session.__init__

        def __init__(session: Any, *args: Any, **kwargs: Any) -> None:
            original(session, *args, **kwargs)
            fake.install(session)

        boto3.session.Session.__init__ = __init__  # type: ignore[method-assign]

    def install(self, session: Any) -> None:
        session.events.register("before-parameter-build.firehose.PutRecordBatch", self._count_records)
        session.events.register("before-send.firehose.PutRecordBatch", self._put_record_batch)
        session.events.register("before-send.dynamodb.GetItem", self._get_item)
        session.events.register("before-send.s3.PutObject", self._put_object)

    def _put_object(self, request: Any, **_: Any) -> Any:
        self.s3_objects += 1
        return AWSResponse(request.url, 200, {"ETag": '"0"'}, _Raw(b""))

    def _count_records(self, params: dict[str, Any], **_: Any) -> None:
        self._pending_records = len(params["Records"])

    def _put_record_batch(self, request: Any, **_: Any) -> Any:
        count = self._pending_records
        self.firehose_calls += 1
        if self.throttle_firehose:
            refusal = {"__type": "ServiceUnavailableException", "message": "Slow down."}
            return json_response(request, refusal, 503)
        self.firehose_records += count
        answer = {"FailedPutCount": 0, "Encrypted": False, "RequestResponses": [{"RecordId": "r"}] * count}
        return json_response(request, answer)

    def _get_item(self, request: Any, **_: Any) -> Any:
        item = {
            "kind": {"S": "project_key"},
            "project_id": {"N": "1"},
            "revoked": {"BOOL": False},
            "anonymize_ips": {"BOOL": False},
            # The bench's project records sessions, so the recordings function can be measured.
            "session_recording": {"BOOL": True},
        }
        return json_response(request, {"Item": item})


class _Raw:
    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **_: Any) -> Any:
        yield self._body


def json_response(request: Any, document: dict[str, Any], status: int = 200) -> Any:
    """An AWS JSON-protocol answer to `request`, as botocore reads one off the wire."""
    body = json.dumps(document).encode()
    return AWSResponse(request.url, status, {"Content-Type": "application/x-amz-json-1.1"}, _Raw(body))
