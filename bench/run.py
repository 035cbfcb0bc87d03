"""`make bench`: what a user pays per event, in time, memory and money, against the floor any
Python implementation must pay. Prints one table; `--record` also writes it to bench/results.md
and the README.

Everything runs on this machine, in process, with AWS answered at the boto level (botocore's
`before-send` event) so the real clients serialise, sign and hash real requests without a network.
The floors are measured in the same run: every figure is a ratio against them.
"""

from __future__ import annotations

import base64
import compileall
import gc
import gzip
import hashlib
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
README = ROOT / "README.md"
BEGIN_TABLE, END_TABLE = "<!-- bench table: make bench-record writes it -->", "<!-- end of bench table -->"
STREAM = "bench-events"
ENVIRONMENT = {
    "AWS_ACCESS_KEY_ID": "bench",
    "AWS_SECRET_ACCESS_KEY": "bench",
    "AWS_DEFAULT_REGION": "us-east-1",
    "EVENTS_STREAM_NAME": STREAM,
    "API_KEYS_TABLE_NAME": "bench-keys",
    "POWERTOOLS_SERVICE_NAME": "capture",
    "POWERTOOLS_METRICS_NAMESPACE": "Bench",
    "POWERTOOLS_TRACE_DISABLED": "true",
    "POWERTOOLS_LOG_LEVEL": "WARNING",
    "STATIC_ASSETS_DIR": str(ROOT / "layers" / "static" / "posthog-js"),
}
FUNCTIONS = {  # handler module -> (folder, a request it serves)
    "capture_handler": "functions/capture",
    "batch_handler": "functions/batch",
    "config_handler": "functions/config",
    "recordings_handler": "functions/recordings",
}
os.environ.update(ENVIRONMENT)
for folder in (*FUNCTIONS.values(), "bench"):
    sys.path.insert(0, str(ROOT / folder))

import boto3  # noqa: E402
import orjson  # noqa: E402
from capture_core.events.batch import read_batch  # noqa: E402
from capture_core.events.lines import SizeRule, stored_lines  # noqa: E402
from capture_core.events.stored import Arrival  # noqa: E402
from capture_core.sink.records import RecordPacker, billed_bytes  # noqa: E402
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
PRICE_DYNAMODB_PER_MILLION_WRITES = 0.625
PRICE_S3_GET_PER_THOUSAND = 0.0004
PRICE_S3_PER_GB_MONTH = 0.023
PRICE_S3_PUT_PER_THOUSAND = 0.005
LAMBDA_MB_PER_VCPU = 1769  # Lambda gives one full vCPU at 1,769 MB, proportionally less below
CAPTURE_MEMORY_MB, BATCH_MEMORY_MB, CONFIG_MEMORY_MB, RECORDINGS_MEMORY_MB = 512, 1024, 256, 1024
USAGE_MEMORY_MB = 1024
# The usage counter's calls per object besides reading it: GetObject, one transaction (the object's
# mark and one item per project, 2 write units each), one consistent BatchGetItem (project item and
# usage item); assumed at 10 ms each on Lambda.
USAGE_CALLS_PER_OBJECT, USAGE_CALL_SECONDS = 3, 0.010
# PostHog Cloud's published price list (posthog.com/pricing, as summarised in 2025): product
# analytics, first 1M events a month free, then per event by tier; session replay, first 5,000
# recordings free, then per recording. List prices; volume discounts are not modelled.
POSTHOG_EVENT_TIERS = ((1e6, 0.0), (2e6, 0.0000500), (15e6, 0.0000343), (50e6, 0.0000295),
                       (100e6, 0.0000218), (250e6, 0.0000150), (float("inf"), 0.0000090))  # fmt: skip
POSTHOG_PRICES_AS_OF = "2025 list prices (posthog.com/pricing)"


@dataclass
class Figure:
    name: str
    value: str
    target: str = ""
    passed: bool | None = None


def samples(action: Callable[[], Any], repeat: int, warmup: int = 2) -> list[float]:
    for _ in range(warmup):
        action()
    timings = []
    for _ in range(repeat):
        started = time.perf_counter()
        action()
        timings.append(time.perf_counter() - started)
    return timings


def median_seconds(action: Callable[[], Any], repeat: int, warmup: int = 2) -> float:
    gc.collect()
    return statistics.median(samples(action, repeat, warmup))


def percentile(timings: list[float], share: float) -> float:
    ordered = sorted(timings)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def rest_event(
    path: str,
    body: bytes | None,
    content_type: str = "application/json",
    query: str = "",
    method: str = "POST",
) -> dict[str, Any]:
    headers = {"Content-Type": content_type, "User-Agent": "bench", "Arrival": "https://shop.example"}
    return build_rest_event(method, path, None, headers, query, body, "203.0.113.1")


class Silence:
    """Powertools prints one EMF line per invocation; the bench keeps the cost, not the output."""

    def __enter__(self) -> None:
        self._stdout = sys.stdout
        sys.stdout = open(os.devnull, "w")

    def __exit__(self, *_: Any) -> None:
        sys.stdout.close()
        sys.stdout = self._stdout


def irreducible_request_work(records: list[bytes]) -> None:
    """What any client pays to send these records to Firehose: base64 each, write the request's
    JSON, hash it for SigV4 (the fastest libraries this environment has)."""
    body = orjson.dumps(
        {"DeliveryStreamName": STREAM, "Records": [{"Data": base64.b64encode(r).decode()} for r in records]}
    )
    hashlib.sha256(body).hexdigest()


def in_process_figures(figures: list[Figure], repeat: int) -> dict[str, float]:
    aws = FakeAws()
    aws.install_everywhere()
    import batch_handler
    import capture_handler
    import config_handler

    batch = browser_batch(1000)
    packed = gzip_bytes(batch)
    envelope = orjson.dumps({"api_key": TOKEN, "batch": batch})
    gzip_event = rest_event("/batch/", gzip.compress(envelope), "application/json", "compression=gzip")
    json_event = rest_event("/batch/", envelope)
    single = rest_event("/i/v0/e/", orjson.dumps({**batch[0], "api_key": TOKEN}))
    config = rest_event(f"/array/{TOKEN}/config", None, method="GET")

    def call(handler: Callable[..., Any], event: dict[str, Any], function: str) -> None:
        answer = handler(event, lambda_context(function, timeout_s=30))
        assert answer["statusCode"] == 200, answer

    arrival = Arrival(now=datetime.now(UTC), ip="203.0.113.1", project_id=1, token=TOKEN)
    # stored_lines lets each parsed event go as it is stored: it works on a copy of the list.
    packer = RecordPacker()
    for line in stored_lines(read_batch(list(batch)), arrival, SizeRule(1_024_000, 48 << 20)):
        packer.add(line)
    records = packer.records()
    firehose = boto3.session.Session().client("firehose", region_name="us-east-1")

    def botocore_call(batch_records: list[bytes]) -> None:
        firehose.put_record_batch(DeliveryStreamName=STREAM, Records=[{"Data": r} for r in batch_records])

    def floor() -> None:
        for item in orjson.loads(gzip.decompress(packed)):
            orjson.dumps(item)

    durations: dict[str, float] = {}
    with Silence():
        # Interleaved, so that a slow moment of the machine weighs on every figure alike.
        rounds: dict[str, list[float]] = {
            "handler": [],
            "json": [],
            "floor": [],
            "irreducible": [],
            "botocore": [],
        }
        for _ in range(repeat):
            rounds["handler"].append(
                median_seconds(lambda: call(batch_handler.lambda_handler, gzip_event, "b"), 1, 1)
            )
            rounds["json"].append(
                median_seconds(lambda: call(batch_handler.lambda_handler, json_event, "b"), 1, 1)
            )
            rounds["floor"].append(median_seconds(floor, 1, 1))
            rounds["irreducible"].append(median_seconds(lambda: irreducible_request_work(records), 1, 1))
            rounds["botocore"].append(median_seconds(lambda: botocore_call(records), 1, 1))
        handler, floor_s, irreducible, botocore = (
            statistics.median(rounds[key]) for key in ("handler", "floor", "irreducible", "botocore")
        )
        single_timings = samples(lambda: call(capture_handler.lambda_handler, single, "capture"), 1000, 20)
        one_line = [records[0].split(b"\n", 1)[0] + b"\n"]  # what a single event's request sends
        single_call = samples(lambda: botocore_call(one_line), 1000, 20)
        config_timings = samples(lambda: call(config_handler.lambda_handler, config, "config"), 1000, 20)
        for size in (1, 10, 100):
            body = gzip.compress(orjson.dumps(batch[:size]))
            event = rest_event("/e/", body, "text/plain")
            durations[f"capture_{size}"] = median_seconds(
                lambda event=event: call(capture_handler.lambda_handler, event, "capture"), repeat * 3
            )
        durations["config"] = percentile(config_timings, 0.5)

    versus_botocore = handler / (floor_s + botocore)
    versus_irreducible = handler / (floor_s + irreducible)
    figures += [
        Figure("batch, 1,000 browser events gzip'd (1.5 MB): handler, ms", f"{handler * 1000:.1f}"),
        Figure(
            "batch, the same uncompressed: handler, ms", f"{statistics.median(rounds['json']) * 1000:.1f}"
        ),
        Figure("floor: inflate + parse + one dump per event, ms", f"{floor_s * 1000:.1f}"),
        Figure("irreducible request work: base64 + request JSON + SHA-256, ms", f"{irreducible * 1000:.1f}"),
        Figure("botocore's own PutRecordBatch on the same records, ms", f"{botocore * 1000:.1f}"),
        Figure(
            "handler / (floor + botocore's PutRecordBatch)",
            f"{versus_botocore:.2f}x",
            "<= 1.4x",
            versus_botocore <= 1.4,
        ),
        Figure("handler / (floor + irreducible request work): to drive down", f"{versus_irreducible:.2f}x"),
    ]
    overhead_p50 = percentile(single_timings, 0.5) - percentile(single_call, 0.5)
    overhead_p99 = percentile(single_timings, 0.99) - percentile(single_call, 0.99)
    figures += [
        Figure(
            "single-event capture, 1,000 requests: handler p50 / p99, ms",
            f"{percentile(single_timings, 0.5) * 1000:.2f} / {percentile(single_timings, 0.99) * 1000:.2f}",
        ),
        Figure(
            "single-event capture: own overhead (minus botocore's call) p50 / p99, ms",
            f"{overhead_p50 * 1000:.2f} / {overhead_p99 * 1000:.2f}",
        ),
        Figure(
            "remote config request (warm key cache), 1,000 requests: p50 / p99, ms",
            f"{percentile(config_timings, 0.5) * 1000:.2f} / {percentile(config_timings, 0.99) * 1000:.2f}",
        ),
    ]

    aws.firehose_calls = aws.firehose_records = 0
    with Silence():
        call(batch_handler.lambda_handler, gzip_event, "batch")
    calls_1000, records_1000 = aws.firehose_calls, aws.firehose_records
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
    return durations


# Only what Lambda itself would do: import the handler, then serve one request.
COLD_HANDLER = """
import json, os, sys, time
started = time.perf_counter()
sys.path[:0] = {paths!r}
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


def run_python(code: str, **environment: str) -> tuple[float, str]:
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, **ENVIRONMENT, **environment},
        cwd=ROOT / "bench",
    )
    return time.perf_counter() - started, result.stdout.strip()


def cold_requests() -> dict[str, dict[str, Any]]:
    one = {**browser_batch(1)[0], "api_key": TOKEN}
    snapshot = [{"event": "$snapshot", "properties": {"$snapshot_data": [{"type": 4}], "$session_id": "s-1",
                                                       "distinct_id": "u", "token": TOKEN}}]  # fmt: skip
    return {
        "capture_handler": rest_event("/e/", orjson.dumps(one)),
        "batch_handler": rest_event("/batch/", orjson.dumps({"api_key": TOKEN, "batch": [one]})),
        "config_handler": rest_event(f"/array/{TOKEN}/config", None, method="GET"),
        "recordings_handler": rest_event("/s/", orjson.dumps(snapshot)),
    }


def cold_start_figures(figures: list[Figure], runs: int) -> None:
    paths = [str(ROOT / folder) for folder in (*FUNCTIONS.values(), "bench")]
    # Compiled, as the layer ships (layers/common/Makefile) and as pip left boto3: no run pays for
    # compiling the code from source (PYTHONDONTWRITEBYTECODE would otherwise make every run do so).
    for folder in ("layers/common", *FUNCTIONS.values(), "bench"):
        compileall.compile_dir(ROOT / folder, quiet=1)
    requests = cold_requests()
    # Interleaved runs: the baseline and each handler see the same moments of the machine.
    timings: dict[str, list[float]] = {name: [] for name in ("baseline", *FUNCTIONS, "tracing")}
    for _ in range(runs):
        timings["baseline"].append(run_python(COLD_BASELINE)[0])
        for module in FUNCTIONS:
            code = COLD_HANDLER.format(paths=paths, module=module, event=json.dumps(requests[module]))
            timings[module].append(run_python(code)[0])
        code = COLD_HANDLER.format(
            paths=paths, module="capture_handler", event=json.dumps(requests["capture_handler"])
        )
        timings["tracing"].append(run_python(code, SDK_TRACING="true")[0])
    baseline = statistics.median(timings["baseline"])
    figures.append(
        Figure("cold start floor: boto3 + Firehose and DynamoDB clients, ms", f"{baseline * 1000:.0f}")
    )
    for module in FUNCTIONS:
        seconds = statistics.median(timings[module])
        ratio = seconds / baseline
        figures.append(
            Figure(
                f"cold start {module} + first request vs that floor",
                f"{seconds * 1000:.0f} ms = {ratio:.2f}x",
                "<= 1.5x",
                ratio <= 1.5,
            )
        )
    untraced = statistics.median(timings["capture_handler"])
    cost = statistics.median(timings["tracing"]) - untraced
    figures.append(
        Figure(
            "cold start capture_handler with SDK_TRACING=true (X-Ray SDK): extra ms (share of it)",
            f"+{cost * 1000:.0f} (+{cost / untraced:.0%})",
        )
    )


PEAK_RSS = """
import gzip, os, resource, sys
sys.path[:0] = {paths!r}
import orjson
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
    reference = lzstring.LZString()
    compressed = reference.compressToBase64(text)
    seconds = median_seconds(lambda: decompress_from_base64(compressed, 50 * 1024 * 1024), repeat=7, warmup=1)
    # The PyPI decoder (uncapped) on the same stream, in the same run: the figure's floor. It is
    # some 25 times slower: three runs of it (about 3 s) give the median.
    floor = median_seconds(lambda: reference.decompressFromBase64(compressed), repeat=3, warmup=0)
    rate = len(text.encode()) / seconds / 1e6
    figures.append(
        Figure(
            "lz-string decompression, 1 MB payload: speed vs PyPI lzstring's decoder (MB/s of output)",
            f"{floor / seconds:.1f}x ({rate:.1f})",
            ">= 20x",
            floor / seconds >= 20,
        )
    )


def lambda_cost(requests: float, seconds_here: float, memory_mb: int) -> float:
    # Measured on a full core here; Lambda below 1,769 MB gets a proportional share of one.
    seconds = seconds_here * max(1.0, LAMBDA_MB_PER_VCPU / memory_mb)
    billed_ms = max(1, -(-seconds * 1000 // 1))
    return requests / 1e6 * PRICE_LAMBDA_PER_MILLION + requests * billed_ms / 1000 * memory_mb / 1024 * (
        PRICE_LAMBDA_ARM_GB_SECOND
    )


def posthog_cloud_cost(events: float) -> float:
    cost, floor = 0.0, 0.0
    for ceiling, price in POSTHOG_EVENT_TIERS:
        cost += max(0.0, min(events, ceiling) - floor) * price
        floor = ceiling
    return cost


def cost_figures(figures: list[Figure], durations: dict[str, float]) -> None:
    event_bytes = durations["event_bytes"]
    per_million: dict[int, float] = {}
    for size, memory in ((1, CAPTURE_MEMORY_MB), (10, CAPTURE_MEMORY_MB), (100, BATCH_MEMORY_MB)):
        requests = 1_000_000 / size
        api = requests / 1e6 * PRICE_API_GATEWAY_REST_PER_MILLION
        lam = lambda_cost(requests, durations[f"capture_{size}"], memory)
        record = -(-size * event_bytes // 5120) * 5120  # one record per request at these sizes
        firehose = requests * record / 2**30 * PRICE_FIREHOSE_PER_GB
        dynamo = requests / 1000 / 1e6 * PRICE_DYNAMODB_PER_MILLION_READS  # 1 cache miss per 1,000 requests
        total = per_million[size] = api + lam + firehose + dynamo
        figures.append(
            Figure(
                f"cost per million events, {size} per request ({memory} MB)",
                f"${total:.2f} (API GW ${api:.2f}, Lambda ${lam:.2f}, "
                f"Firehose ${firehose:.2f}, DynamoDB ${dynamo:.4f})",
            )
        )
    # A browser site: each page view fetches its remote config once (browsers then cache it for
    # its max-age) and sends its events in batches of about 10.
    pageviews = 1_000_000 / 10  # a million events at ten events per page view
    config = pageviews * (PRICE_API_GATEWAY_REST_PER_MILLION / 1e6) + lambda_cost(
        pageviews, durations["config"], CONFIG_MEMORY_MB
    )
    figures.append(
        Figure("remote config, per million events (one config request per 10 events)", f"${config:.2f}")
    )
    # Recordings: about 1.5 MB gzip'd per recorded minute; each request about 0.3 MB.
    minute_bytes, request_bytes = 1.5e6, 0.3e6
    requests = minute_bytes / request_bytes
    per_thousand_minutes = 1000 * (
        requests * PRICE_API_GATEWAY_REST_PER_MILLION / 1e6
        + lambda_cost(requests, 0.02, RECORDINGS_MEMORY_MB)
        + minute_bytes / 2**30 * PRICE_FIREHOSE_PER_GB
        + minute_bytes / 2**30 * PRICE_S3_PER_GB_MONTH
    )
    figures.append(
        Figure(
            "session recordings, per 1,000 recorded minutes (~1.5 MB each, S3 for a month)",
            f"${per_thousand_minutes:.2f}",
        )
    )
    # The direct path to S3: one PUT per request, in place of Firehose's per-GB ingestion (the
    # stored bytes cost the same in S3 either way).
    for size in (1, 10, 100):
        requests = 1_000_000 / size
        puts = requests * PRICE_S3_PUT_PER_THOUSAND / 1000
        record = -(-size * event_bytes // 5120) * 5120
        instead = requests * record / 2**30 * PRICE_FIREHOSE_PER_GB
        figures.append(
            Figure(
                f"events taking the direct path to S3, per million, {size} per request",
                f"${puts:.2f} of S3 PUTs (instead of ${instead:.2f} of Firehose)",
            )
        )
    for monthly in (10e6, 100e6):
        ours = monthly / 1e6 * (per_million[10] + config)
        figures.append(
            Figure(
                f"PostHog Cloud analytics, {monthly / 1e6:.0f}M events a month ({POSTHOG_PRICES_AS_OF})",
                f"${posthog_cloud_cost(monthly):,.0f} vs this stack (10 events per request, with remote "
                f"config): ${ours:,.0f}",
            )
        )


def usage_counting_figures(figures: list[Figure], repeat: int) -> None:
    """The quota counter's cost: reading and counting a delivered object (measured), the calls it
    makes per object (priced), per million events and per stream-month at one object a minute."""
    from io import BytesIO

    from capture_core.auth.quotas import EVENTS
    from capture_core.usage.counter import count_lines, lines_of

    arrival = Arrival(now=datetime.now(UTC), ip="203.0.113.1", project_id=1, token=TOKEN)
    lines = stored_lines(read_batch(browser_batch(1000)), arrival, SizeRule(1_024_000, 48 << 20))
    data = gzip.compress(b"".join(line + b"\n" for line in lines))
    seconds = median_seconds(lambda: count_lines(lines_of(BytesIO(data)), EVENTS), repeat)
    figures.append(
        Figure(
            "quota counting: read and count a delivered object of 1,000 events, ms", f"{seconds * 1000:.1f}"
        )
    )

    def per_object(events_in_object: int, projects: int = 1) -> float:
        busy = seconds * events_in_object / 1000 + USAGE_CALLS_PER_OBJECT * USAGE_CALL_SECONDS
        writes = 2 * (1 + projects)
        reads = 2 * projects
        return (
            lambda_cost(1, busy, USAGE_MEMORY_MB)
            + PRICE_S3_GET_PER_THOUSAND / 1000
            + writes * PRICE_DYNAMODB_PER_MILLION_WRITES / 1e6
            + reads * PRICE_DYNAMODB_PER_MILLION_READS / 1e6
        )

    for events_in_object in (1000, 10_000):
        cost = per_object(events_in_object) * 1e6 / events_in_object
        figures.append(
            Figure(
                f"quota counting, per million events, objects of {events_in_object:,} events", f"${cost:.3f}"
            )
        )
    # Firehose delivers at least one object per buffer interval (60 s) while events arrive.
    figures.append(
        Figure(
            "quota counting floor: a stream delivering every minute, per month",
            f"${per_object(1) * 43_200:.2f}",
        )
    )


def render(figures: list[Figure]) -> str:
    rows = ["| figure | value | target | |", "|---|---|---|---|"]
    for figure in figures:
        mark = "" if figure.passed is None else ("pass" if figure.passed else "FAIL")
        rows.append(f"| {figure.name} | {figure.value} | {figure.target} | {mark} |")
    machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    return "\n".join(
        [f"Measured {time.strftime('%Y-%m-%d')} on {machine}; medians of interleaved runs.", "", *rows]
    )


def main() -> int:
    quick = "--quick" in sys.argv
    print(f"Python {platform.python_version()}", flush=True)
    figures: list[Figure] = []
    durations = in_process_figures(figures, repeat=5 if quick else 21)
    cold_start_figures(figures, runs=2 if quick else 7)
    peak_rss_figure(figures)
    lz_string_figure(figures)
    cost_figures(figures, durations)
    usage_counting_figures(figures, repeat=5 if quick else 21)
    table = render(figures)
    print(table)
    if "--record" in sys.argv:
        RESULTS.write_text("# Benchmark results (`make bench-record`)\n\n" + table + "\n")
        # The README shows the same table, between its bench markers.
        readme = README.read_text(encoding="utf-8")
        start, end = readme.index(BEGIN_TABLE) + len(BEGIN_TABLE), readme.index(END_TABLE)
        README.write_text(f"{readme[:start]}\n{table}\n{readme[end:]}", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
