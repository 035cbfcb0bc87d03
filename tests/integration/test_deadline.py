"""Every call, Firehose's and the direct path's to S3, the first included, ends before the Lambda's
time is up: real botocore clients against a Firehose and an S3 on loopback that answer late."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from capture_core.settings import Settings
from capture_core.wiring import capture_function
from capture_local.lambda_context import lambda_context
from capture_local.rest_event import build_rest_event

pytestmark = pytest.mark.integration

TOKEN = "phc_deadline"
KEY_ITEM = {
    "kind": {"S": "project_key"},
    "project_id": {"N": "1"},
    "revoked": {"BOOL": False},
}


class SlowAws(ThreadingHTTPServer):
    """DynamoDB answers at once; Firehose and S3 after `delay` seconds."""

    daemon_threads = True
    delay = 5.0
    firehose_calls = 0
    s3_calls = 0


class _Handler(BaseHTTPRequestHandler):
    server: SlowAws

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if "Firehose" in self.headers.get("X-Amz-Target", ""):
            self.server.firehose_calls += 1
            time.sleep(self.server.delay)
            answer = {"FailedPutCount": 0, "Encrypted": False, "RequestResponses": [{"RecordId": "r"}]}
        else:
            answer = {"Item": {"key_id": {"S": TOKEN}, **KEY_ITEM}}
        self._answer(json.dumps(answer).encode())

    def do_PUT(self) -> None:  # S3 PutObject: the direct path
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.server.s3_calls += 1
        time.sleep(self.server.delay)
        self._answer(b"")

    def _answer(self, body: bytes) -> None:
        try:
            self.send_response(200)
            self.send_header("Content-Type", "application/x-amz-json-1.1")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up first: that is the point

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[SlowAws]:
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(name, value)
    server = SlowAws(("127.0.0.1", 0), _Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


def capture(server: SlowAws, remaining_s: float, **settings: float) -> tuple[int, float]:
    endpoint = f"http://127.0.0.1:{server.server_address[1]}"
    app = capture_function(Settings(capture_aws_endpoint_url=endpoint, **settings))
    body = json.dumps({"api_key": TOKEN, "event": "e", "distinct_id": "u"})
    event = build_rest_event("POST", "/capture/", None, {"Content-Type": "application/json"}, "", body)
    started = time.monotonic()
    answer = app.resolve(event, lambda_context("capture", timeout_s=remaining_s))
    return answer["statusCode"], time.monotonic() - started


def test_a_late_firehose_and_a_late_s3_get_503_before_the_lambdas_time_is_up(aws: SlowAws):
    status, elapsed = capture(aws, remaining_s=4.0, sink_time_margin_seconds=0)
    assert status == 503
    assert aws.firehose_calls >= 1
    assert aws.s3_calls >= 1  # Firehose's time ended early enough for the direct path to try
    assert elapsed < 4.0


def test_no_call_is_made_when_no_call_could_end_in_time(aws: SlowAws):
    # 0.6 s left and a 1.5 s margin: answering at once is the only answer that comes in time.
    aws.delay = 1.2
    status, elapsed = capture(aws, remaining_s=0.6)
    assert (status, aws.firehose_calls, aws.s3_calls) == (503, 0, 0)
    assert elapsed < 0.6
