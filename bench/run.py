"""`make bench`: what a user pays per event, in time, memory and money, against the floor any
Python implementation must pay. Prints one table and writes it to bench/results.md.

Everything runs on this machine, in process, with AWS answered at the boto level (botocore's
`before-send` event) so the real clients serialise real requests without a network.
"""

from __future__ import annotations

import gc
import gzip
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results.md"
ENVIRONMENT = {
    "AWS_ACCESS_KEY_ID": "bench",
    "AWS_SECRET_ACCESS_KEY": "bench",
    "AWS_DEFAULT_REGION": "us-east-1",
    "EVENTS_STREAM_NAME": "bench-events",
    "API_KEYS_TABLE_NAME": "bench-keys",
    "POWERTOOLS_SERVICE_NAME": "capture",
    "POWERTOOLS_METRICS_NAMESPACE": "Bench",
    "POWERTOOLS_TRACE_DISABLED": "true",
    "POWERTOOLS_LOG_LEVEL": "WARNING",
}
os.environ.update(ENVIRONMENT)
for folder in ("functions/capture", "functions/batch", "bench"):
    sys.path.insert(0, str(ROOT / folder))

import orjson  # noqa: E402
from capture_core.events.batch import read_batch  # noqa: E402
from capture_core.events.stored import Origin  # noqa: E402
from capture_core.sink.records import billed_bytes, build_records  # noqa: E402
from capture_local.lambda_context import lambda_context  # noqa: E402
from capture_local.rest_event import build_rest_event  # noqa: E402
from fake_aws import FakeAws  # noqa: E402
from payloads import TOKEN, browser_batch, gzip_bytes, json_bytes  # noqa: E402

# Prices in us-east-1 (USD), as published by AWS; the model below says how each is applied.
PRICE_API_GATEWAY_REST_PER_MILLION = 3.50
PRICE_LAMBDA_ARM_GB_SECOND = 0.0000133334
PRICE_LAMBDA_PER_MILLION = 0.20
PRICE_FIREHOSE_PER_GB = 0.029
PRICE_DYNAMODB_PER_MILLION_READS = 0.125
LAMBDA_MB_PER_VCPU = 1769  # Lambda gives one full vCPU at 1,769 MB, proportionally less below
CAPTURE_MEMORY_MB, BATCH_MEMORY_MB = 512, 1024


@dataclass
class Figure:
    name: str
    value: str
    target: str = ""
    passed: bool | None = None


def median_seconds(action: Callable[[], Any], repeat: int, warmup: int = 2) -> float:
    for _ in range(warmup):
        action()
    samples = []
    for _ in range(repeat):
        gc.collect()
        started = time.perf_counter()
        action()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


def rest_event(
    path: str, body: bytes, content_type: str = "application/json", query: str = ""
) -> dict[str, Any]:
    headers = {"Content-Type": content_type, "User-Agent": "bench"}
    return build_rest_event("POST", path, None, headers, query, body, "203.0.113.1")


class Silence:
    """Powertools prints one EMF line per invocation; the bench keeps the cost, not the output."""

    def __enter__(self) -> None:
        self._stdout = sys.stdout
        sys.stdout = open(os.devnull, "w")

    def __exit__(self, *_: Any) -> None:
        sys.stdout.close()
        sys.stdout = self._stdout


def in_process_figures(figures: list[Figure], repeat: int) -> dict[str, float]:
    aws = FakeAws()
    aws.install_everywhere()
    import batch_handler
    import capture_handler

    batch = browser_batch(1000)
    packed = gzip_bytes(batch)
    envelope_gzip = gzip.compress(orjson.dumps({"api_key": TOKEN, "batch": batch}))
    envelope_json = orjson.dumps({"api_key": TOKEN, "batch": batch})
    gzip_event = rest_event("/batch/", envelope_gzip, "application/json", "compression=gzip")
    json_event = rest_event("/batch/", envelope_json)
    single = rest_event("/i/v0/e/", orjson.dumps(batch[0]), "application/json")

    def call(handler: Callable[..., Any], event: dict[str, Any], function: str) -> None:
        answer = handler(event, lambda_context(function, timeout_s=30))
        assert answer["statusCode"] == 200, answer

    durations: dict[str, float] = {}
    with Silence():
        batch_gzip = median_seconds(lambda: call(batch_handler.lambda_handler, gzip_event, "batch"), repeat)
        batch_json = median_seconds(lambda: call(batch_handler.lambda_handler, json_event, "batch"), repeat)
        one = median_seconds(lambda: call(capture_handler.lambda_handler, single, "capture"), repeat * 20)
        for size in (1, 10, 100):
            body = gzip.compress(orjson.dumps(batch[:size]))
            event = rest_event("/e/", body, "text/plain", "compression=gzip-js")
            durations[f"capture_{size}"] = median_seconds(
                lambda event=event: call(capture_handler.lambda_handler, event, "capture"), repeat * 5
            )

    def floor() -> None:
        for item in orjson.loads(gzip.decompress(packed)):
            orjson.dumps(item)

    floor_seconds = median_seconds(floor, repeat)
    ratio = batch_gzip / floor_seconds
    figures += [
        Figure("batch, 1,000 events gzip'd: events/s", f"{1000 / batch_gzip:,.0f}"),
        Figure("batch, 1,000 events uncompressed: events/s", f"{1000 / batch_json:,.0f}"),
        Figure("capture, single event: requests/s", f"{1 / one:,.0f}"),
        Figure("floor (inflate + parse + 1 dump per event): events/s", f"{1000 / floor_seconds:,.0f}"),
        Figure("handler / floor, gzip'd 1,000-event batch", f"{ratio:.2f}x", "<= 1.5x", ratio <= 1.5),
    ]

    aws.firehose_calls = aws.firehose_records = 0
    with Silence():
        call(batch_handler.lambda_handler, gzip_event, "batch")
    calls_1000, records_1000 = aws.firehose_calls, aws.firehose_records
    origin = Origin(now=datetime.now(UTC), ip="203.0.113.1", project_id=1, token=TOKEN)
    records = build_records(read_batch(batch, "/batch"), origin, 1_024_000, 48 << 20)
    lines = [line for record in records for line in record.splitlines(keepends=True)]
    overhead = billed_bytes(records) / sum(map(len, lines))
    aws.firehose_calls = aws.firehose_records = 0
    with Silence():
        call(capture_handler.lambda_handler, single, "capture")
    figures += [
        Figure(
            "Firehose calls, 1,000 events of ~1.2 KB in one request", str(calls_1000), "1", calls_1000 == 1
        ),
        Figure("Firehose records for those 1,000 events", str(records_1000)),
        Figure(
            "Firehose billed bytes / raw bytes (5 KB rounding)",
            f"{overhead:.3f}",
            "<= 1.05",
            overhead <= 1.05,
        ),
        Figure(
            "Firehose calls / records, one event per request",
            f"{aws.firehose_calls} / {aws.firehose_records}",
            "1 / 1",
            (aws.firehose_calls, aws.firehose_records) == (1, 1),
        ),
        Figure("raw event size (stored line), bytes", f"{sum(map(len, lines)) / len(lines):,.0f}"),
    ]
    durations["event_bytes"] = sum(map(len, lines)) / len(lines)
    durations["batch_gzip_1000"] = batch_gzip
    return durations


# Only what Lambda itself would do: import the handler, then call it with one event.
COLD_HANDLER = """
import json, os, sys, time
started = time.perf_counter()
sys.path[:0] = {paths!r}
import boto3
from fake_aws import FakeAws
FakeAws().install_everywhere()
import {module}

class Context:
    function_name = "bench"; memory_limit_in_mb = 512; aws_request_id = "cold"
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:bench"
    def get_remaining_time_in_millis(self): return 30000

sys.stdout = open(os.devnull, "w")
answer = {module}.lambda_handler(json.loads({event!r}), Context())
assert answer["statusCode"] == 200, answer
sys.stdout = sys.__stdout__
print(time.perf_counter() - started)
"""
COLD_BASELINE = """
import time
started = time.perf_counter()
import boto3
boto3.client("firehose"); boto3.client("dynamodb")
print(time.perf_counter() - started)
"""
# What any handler using Powertools' Tracer pays on top: the X-Ray SDK builds its recorder, and
# two botocore X-Ray clients for sampling, when imported.
COLD_TRACER_FLOOR = COLD_BASELINE.replace("print(", "import aws_xray_sdk.core\nprint(")


def run_python(code: str) -> tuple[float, str]:
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, **ENVIRONMENT},
        cwd=ROOT / "bench",
    )
    return time.perf_counter() - started, result.stdout.strip()


def cold_start_figures(figures: list[Figure], runs: int) -> None:
    paths = [str(ROOT / "functions/capture"), str(ROOT / "functions/batch"), str(ROOT / "bench")]
    body = orjson.dumps({**browser_batch(1)[0], "api_key": TOKEN})
    baseline = statistics.median(run_python(COLD_BASELINE)[0] for _ in range(runs))
    tracer_floor = statistics.median(run_python(COLD_TRACER_FLOOR)[0] for _ in range(runs))
    figures.append(
        Figure(
            "cold start floor with Tracer: boto3-only + import aws_xray_sdk (process wall time)",
            f"{tracer_floor * 1000:.0f} ms = {tracer_floor / baseline:.2f}x boto3-only",
        )
    )
    for module, path in (("capture_handler", "/e/"), ("batch_handler", "/batch/")):
        event = json.dumps(rest_event(path, body))
        code = COLD_HANDLER.format(paths=paths, module=module, event=event)
        seconds = statistics.median(run_python(code)[0] for _ in range(runs))
        ratio = seconds / baseline
        figures.append(
            Figure(
                f"cold start {module} + first request vs boto3-only (process wall time)",
                f"{seconds * 1000:.0f} ms vs {baseline * 1000:.0f} ms = {ratio:.2f}x",
                "<= 1.5x",
                ratio <= 1.5,
            )
        )


PEAK_RSS = """
import gzip, os, resource, sys
sys.path[:0] = {paths!r}
import boto3, orjson
from run import FakeAws, rest_event
from payloads import TOKEN, browser_batch
from capture_local.lambda_context import lambda_context
FakeAws().install_everywhere()
import batch_handler
sys.stdout = open(os.devnull, "w")
small = rest_event("/batch/", orjson.dumps({{"api_key": TOKEN, "batch": browser_batch(10)}}))
batch_handler.lambda_handler(small, lambda_context("b", timeout_s=60))
events = browser_batch(1)
target = {size}
one = len(orjson.dumps(events[0]))
events = browser_batch(target // (one + 1) - 2)
raw = orjson.dumps({{"api_key": TOKEN, "batch": events}})
body = gzip.compress(raw, 6)
event = rest_event("/batch/", body, "application/json")
del events
import gc; gc.collect()
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
answer = batch_handler.lambda_handler(event, lambda_context("b", timeout_s=60))
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
sys.stdout = sys.__stdout__
print(answer["statusCode"], len(raw), before, after)
"""


def peak_rss_figure(figures: list[Figure]) -> None:
    paths = [str(ROOT / "functions/batch"), str(ROOT / "bench")]
    size = 20 * 1024 * 1024 - 512 * 1024  # the largest payload the default limit admits, with margin
    _, output = run_python(PEAK_RSS.format(paths=paths, size=size))
    status, raw, before_kib, after_kib = (int(x) for x in output.split())
    growth = (after_kib - before_kib) * 1024
    factor = growth / raw
    figures.append(
        Figure(
            f"peak RSS growth for a {raw / 2**20:.1f} MiB payload (status {status})",
            f"{growth / 2**20:.0f} MiB = {factor:.1f}x the payload",
            "<= 6x (<= 120 MiB)",
            factor <= 6 and growth <= 120 * 2**20,
        )
    )


def lz_string_figure(figures: list[Figure]) -> None:
    import lzstring
    from capture_core.decoding.lz_string import decompress_from_base64

    text = json_bytes(browser_batch(850)).decode()[: 1024 * 1024]
    compressed = lzstring.LZString().compressToBase64(text)
    seconds = median_seconds(lambda: decompress_from_base64(compressed, 50 * 1024 * 1024), repeat=3, warmup=1)
    rate = len(text.encode()) / seconds / 1e6
    figures.append(
        Figure("lz-string decompression, 1 MB payload: MB/s of output", f"{rate:.1f}", ">= 20", rate >= 20)
    )


def cost_figures(figures: list[Figure], durations: dict[str, float]) -> None:
    event_bytes = durations["event_bytes"]
    for size, memory in ((1, CAPTURE_MEMORY_MB), (10, CAPTURE_MEMORY_MB), (100, BATCH_MEMORY_MB)):
        requests = 1_000_000 / size
        # Measured on a full core here; Lambda below 1,769 MB gets a proportional share of one.
        seconds = durations[f"capture_{size}"] * max(1.0, LAMBDA_MB_PER_VCPU / memory)
        billed_ms = max(1, -(-seconds * 1000 // 1))
        api = requests / 1e6 * PRICE_API_GATEWAY_REST_PER_MILLION
        lam = requests / 1e6 * PRICE_LAMBDA_PER_MILLION + requests * billed_ms / 1000 * memory / 1024 * (
            PRICE_LAMBDA_ARM_GB_SECOND
        )
        record = -(-size * event_bytes // 5120) * 5120  # one record per request at these sizes
        firehose = requests * record / 2**30 * PRICE_FIREHOSE_PER_GB
        dynamo = requests / 1000 / 1e6 * PRICE_DYNAMODB_PER_MILLION_READS  # 1 cache miss per 1,000 requests
        total = api + lam + firehose + dynamo
        figures.append(
            Figure(
                f"cost per million events, {size} per request ({memory} MB, ~{billed_ms:.0f} ms billed)",
                f"${total:.2f} (API GW ${api:.2f}, Lambda ${lam:.2f}, "
                f"Firehose ${firehose:.2f}, DynamoDB ${dynamo:.4f})",
            )
        )


def render(figures: list[Figure]) -> str:
    rows = ["| figure | value | target | |", "|---|---|---|---|"]
    for figure in figures:
        mark = "" if figure.passed is None else ("pass" if figure.passed else "FAIL")
        rows.append(f"| {figure.name} | {figure.value} | {figure.target} | {mark} |")
    machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    return "\n".join(
        [f"Measured {time.strftime('%Y-%m-%d')} on {machine}; medians of repeated runs.", "", *rows]
    )


def main() -> int:
    quick = "--quick" in sys.argv
    figures: list[Figure] = []
    durations = in_process_figures(figures, repeat=3 if quick else 9)
    cold_start_figures(figures, runs=2 if quick else 5)
    peak_rss_figure(figures)
    lz_string_figure(figures)
    cost_figures(figures, durations)
    table = render(figures)
    print(table)
    if not quick:
        RESULTS.write_text("# Benchmark results (`make bench`)\n\n" + table + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
