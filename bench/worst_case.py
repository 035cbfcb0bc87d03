"""The worst inputs within the limits, each served by a warm function as Lambda would serve it (a
process of its own, forked from one that imported the handler and served a request): the peak
memory and CPU a function spends on them, against its MemorySize and Timeout.

`python bench/worst_case.py` prints the table; `tests/integration/test_worst_case.py` asserts it.
Every body is built by this process and read by the measured one from a file, so building it never
counts.
"""

from __future__ import annotations

import base64
import gzip
import json
import os
import subprocess
import sys
import tempfile
import threading
import zlib
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
MIB = 1024 * 1024
TOKEN = "phc_bench_token"
# Lambda gives one full vCPU at 1,769 MB and a proportional share below it.
LAMBDA_MB_PER_VCPU = 1769
MEMORY_TARGET = 0.6  # peak memory may reach this share of the function's MemorySize
# Just under the payload limit (20 MiB), as an attacker would size a bomb.
BOMB_BYTES = 20 * MIB - 64 * 1024


@dataclass(frozen=True)
class Function:
    name: str
    module: str
    folder: str
    memory_mb: int
    timeout_s: float
    environment: dict[str, str]

    def settings(self) -> Any:
        """The function's settings as Lambda would read them (its own variables, its memory)."""
        from capture_core.settings import Settings

        memory = {"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(self.memory_mb)}
        return Settings.from_environment({**self.environment, **memory})


def template_functions() -> dict[str, Function]:
    """Each function's handler and sizing, read from template.yaml (so the targets follow it)."""

    class Loader(yaml.SafeLoader):
        pass

    Loader.add_multi_constructor("!", lambda loader, suffix, node: None)
    template = yaml.load((ROOT / "template.yaml").read_text(), Loader=Loader)
    defaults = template["Globals"]["Function"]
    functions = {}
    for logical_id, resource in template["Resources"].items():
        if resource["Type"] != "AWS::Serverless::Function":
            continue
        properties = resource["Properties"]
        functions[logical_id] = Function(
            name=logical_id,
            module=properties["Handler"].rsplit(".", 1)[0],
            folder=properties["CodeUri"].rstrip("/"),
            memory_mb=int(properties.get("MemorySize", defaults["MemorySize"])),
            timeout_s=float(properties.get("Timeout", defaults["Timeout"])),
            environment={
                name: str(value)
                for name, value in ((properties.get("Environment") or {}).get("Variables") or {}).items()
                if value is not None
            },
        )
    return functions


@dataclass(frozen=True)
class Case:
    name: str
    function: str
    path: str
    build: Callable[[], bytes]
    content_type: str = "text/plain"
    query: str = ""
    headers: tuple[tuple[str, str], ...] = ()
    firehose: str = ""  # "throttle": Firehose refuses every call, so every line takes the direct path


def _array_of(unit: bytes, tail: bytes = b"{}", size: int = BOMB_BYTES) -> bytes:
    return b"[" + unit * ((size - len(tail) - 2) // len(unit)) + tail + b"]"


def _at_budget(unit: bytes, tail: bytes, function: Function) -> bytes:
    """The largest array of `unit` that the function reads (its parse estimate within budget, its
    size within the payload limit): the costliest body that passes the check before parsing."""
    from capture_core.json_codec import parse_cost

    settings = function.settings()
    budget = settings.parse_budget_bytes
    per_unit = parse_cost(unit) / len(unit)
    size = min(settings.max_payload_bytes - 1024, int(budget / per_unit))
    while parse_cost(data := _array_of(unit, tail, size)) > budget:
        size -= max(len(unit), size // 200)
    return data


def _gzip(data: bytes) -> bytes:
    return gzip.compress(data, 9)


def _browser_batch(size: int) -> bytes:
    sys.path.insert(0, str(ROOT / "bench"))
    from payloads import browser_batch

    sample = browser_batch(100)
    mean = sum(len(json.dumps(event, separators=(",", ":"))) + 1 for event in sample) / len(sample)
    events = browser_batch(int(size / mean))
    while True:
        body = json.dumps({"api_key": TOKEN, "batch": events}, separators=(",", ":")).encode()
        if len(body) <= size:
            return body
        del events[-max(1, (len(body) - size) // int(mean)) :]


def _multipart(*parts: tuple[str, bytes]) -> bytes:
    body = b"".join(
        b"--B\r\n" + headers.encode() + b"\r\n\r\n" + content + b"\r\n" for headers, content in parts
    )
    return body + b"--B--\r\n"


def _events_data() -> bytes:
    return json.dumps([{"api_key": TOKEN, "event": "e", "distinct_id": "u"}]).encode()


MULTIPART = "multipart/form-data; boundary=B"

# Shapes that cost the most memory per byte once parsed, as (unit, last element); gzip'd, each is
# a few kilobytes on the wire.
SHAPES: dict[str, tuple[bytes, bytes]] = {
    "empty objects [{},…]": (b"{},", b"{}"),
    "empty arrays [[],…]": (b"[],", b"[]"),
    "empty objects, NaN last": (b"{},", b"NaN"),
    "one-letter strings": (b'"a",', b'"a"'),
    "nested objects": (b'{"a":{"b":{}}},', b"{}"),
    "minimal valid events": (f'{{"api_key":"{TOKEN}","event":"e","distinct_id":"u"}},'.encode(), b"{}"),
}
ROUTES = (
    ("CaptureFunction", "/e/"),
    ("CaptureFunction", "/engage/"),
    ("BatchFunction", "/batch/"),
    ("ConfigFunction", "/flags/"),
    ("RecordingsFunction", "/s/"),
)
V1_PATH = "/i/v1/analytics/events"
V1_HEADERS = (
    ("Authorization", f"Bearer {TOKEN}"),
    ("User-Agent", "posthog-python/7.91.1"),
    ("PostHog-Sdk-Info", "posthog-python/7.91.1"),
    ("PostHog-Attempt", "1"),
    ("PostHog-Request-Id", "0193a1b2-0000-7000-8000-00000000eeee"),
    ("PostHog-Request-Timestamp", "2026-05-01T12:00:00.000Z"),
    ("Content-Encoding", "gzip"),
)


def _most_events_stored(engage: bool) -> bytes:
    """As many minimal events as the stored-size limit admits: every one is validated, stored
    and sent to Firehose."""
    from datetime import UTC, datetime

    from capture_core import json_codec
    from capture_core.events.stored import Arrival, normalise_event
    from capture_core.settings import Settings

    arrival = Arrival(now=datetime.now(UTC), ip="203.0.113.1", project_id=1, token=TOKEN)
    name = "$identify" if engage else "e"
    line = len(json_codec.dumps_line(normalise_event({"event": name, "distinct_id": "u"}, arrival)))
    count = Settings().max_stored_bytes // line - 16
    event = {"distinct_id": "u"} if engage else {"event": "e", "distinct_id": "u"}
    return _gzip(json.dumps({"api_key": TOKEN, "batch": [event] * count}).encode())


def _bomb_at_budget(unit: bytes, tail: bytes, function: str) -> Callable[[], bytes]:
    return lambda: _gzip(_at_budget(unit, tail, template_functions()[function]))


def _v1_body(array: bytes) -> bytes:
    return b'{"created_at":"2026-05-01T12:00:00.000Z","batch":' + array + b"}"


def _v1_bomb_at_budget(unit: bytes, tail: bytes) -> Callable[[], bytes]:
    def build() -> bytes:
        array = _at_budget(unit, tail, template_functions()["BatchFunction"])
        return _gzip(_v1_body(b"[" + array[1 + len(unit) :]))  # one unit less: room for the envelope

    return build


def _encoded(data: bytes, encoding: str) -> bytes:
    import brotli
    import zstandard

    encoders: dict[str, Callable[[bytes], bytes]] = {
        "gzip": _gzip,
        "deflate": lambda raw: zlib.compress(raw, 9),
        "br": brotli.compress,
        "zstd": zstandard.ZstdCompressor(level=19).compress,
    }
    return encoders[encoding](data)


def _v1_headers(encoding: str) -> tuple[tuple[str, str], ...]:
    return (*(pair for pair in V1_HEADERS if pair[0] != "Content-Encoding"), ("Content-Encoding", encoding))


def _lambda_body_bytes() -> int:
    """The largest body a function receives: API Gateway hands it over base64-encoded (every media
    type is binary) inside at most 6 MB of event."""
    from capture_core.limits import LAMBDA_MAX_EVENT_BYTES

    return LAMBDA_MAX_EVENT_BYTES // 4 * 3 - 16 * 1024  # the event's other fields


def _snapshot(data: str, session: str = "0193a1b2-aaaa-7000-8000-000000000001") -> dict[str, Any]:
    """A `$snapshot` event as posthog-js sends it, carrying one compressed full snapshot."""
    rrweb = {"type": 2, "data": data, "cv": "2024-10", "timestamp": 1_777_000_000_000}
    return {
        "event": "$snapshot",
        "properties": {"$snapshot_data": [rrweb], "$session_id": session, "$window_id": session,
                       "$snapshot_bytes": len(data) + 2, "distinct_id": "u", "token": TOKEN},
    }  # fmt: skip


def _posthog_js_body(events: list[dict[str, Any]]) -> bytes:
    return _gzip(json.dumps(events, ensure_ascii=False, separators=(",", ":")).encode())


def _one_snapshot_as_posthog_js_sends_it() -> bytes:
    """One full snapshot of random (incompressible) gzip bytes as a latin-1 string: the largest
    posthog-js can send in a body Lambda takes, about twice as large once stored as UTF-8."""
    size = _lambda_body_bytes() - 64 * 1024
    while True:
        body = _posthog_js_body([_snapshot(os.urandom(size).decode("latin-1"))])
        if len(body) <= _lambda_body_bytes():
            return body
        size -= len(body) - _lambda_body_bytes() + 1024


def _one_snapshot_at_the_payload_limit() -> bytes:
    """One snapshot string as long as the payload limit allows, with one astral character, which
    makes Python hold the whole string at four bytes a character."""
    event = _snapshot("")
    room = BOMB_BYTES - len(json.dumps([event]).encode()) - 8
    event["properties"]["$snapshot_data"][0]["data"] = "\U0001f600" + "a" * (room - 4)
    return _posthog_js_body([event])


def _snapshots_just_under_a_record() -> bytes:
    """As many snapshots of just under a Firehose record once stored as fill the payload limit:
    every one is packed into a record of its own."""
    event = _snapshot("b" * 1_000_000)
    count = BOMB_BYTES // len(json.dumps(event).encode())
    return _posthog_js_body(
        [_snapshot("b" * 1_000_000, f"0193a1b2-aaaa-7000-8000-{i:012d}") for i in range(count)]
    )


def _most_snapshots_stored() -> bytes:
    """As many tiny snapshots as the payload and stored-size limits admit: each one validated and
    stored."""
    from datetime import UTC, datetime

    from capture_core import json_codec
    from capture_core.events.stored import Arrival, normalise_event
    from capture_core.settings import Settings

    event = _snapshot("")
    event["properties"]["$snapshot_data"] = [{"type": 3, "data": {}}]
    arrival = Arrival(now=datetime.now(UTC), ip="203.0.113.1", project_id=1, token=TOKEN)
    line = len(json_codec.dumps_line(normalise_event(dict(event), arrival)))
    sent = len(json.dumps(event, separators=(",", ":"))) + 1
    return _posthog_js_body([event] * min(Settings().max_stored_bytes // line - 16, BOMB_BYTES // sent - 16))


def cases() -> list[Case]:
    result = [
        Case(f"{name}, the most the check admits", function, path, _bomb_at_budget(unit, tail, function))
        for name, (unit, tail) in SHAPES.items()
        for function, path in ROUTES
    ]
    result += [
        Case(
            f"{name} as a v1 batch, the most the check admits",
            "BatchFunction",
            V1_PATH,
            _v1_bomb_at_budget(unit, tail),
            "application/json",
            headers=V1_HEADERS,
        )
        for name, (unit, tail) in SHAPES.items()
    ]
    result += [
        Case(
            f"empty objects as a v1 batch, {BOMB_BYTES / MIB:.1f} MiB, {encoding}",
            "BatchFunction",
            V1_PATH,
            lambda encoding=encoding: _encoded(_v1_body(_array_of(b"{},")), encoding),  # type: ignore[misc]
            "application/json",
            headers=_v1_headers(encoding),
        )
        for encoding in ("gzip", "deflate", "br", "zstd")
    ]
    result += [
        Case(
            "minimal valid events, all stored", "CaptureFunction", "/e/", lambda: _most_events_stored(False)
        ),
        Case("person updates, all stored", "CaptureFunction", "/engage/", lambda: _most_events_stored(True)),
        Case(
            "minimal valid events, all stored", "BatchFunction", "/batch/", lambda: _most_events_stored(False)
        ),
    ]
    result += [
        Case(
            f"{name}, all stored, Firehose throttling: all to S3", function, path, build, firehose="throttle"
        )
        for name, function, path, build in (
            ("minimal valid events", "CaptureFunction", "/e/", lambda: _most_events_stored(False)),
            ("minimal valid events", "BatchFunction", "/batch/", lambda: _most_events_stored(False)),
            ("tiny $snapshots", "RecordingsFunction", "/s/", _most_snapshots_stored),
            (
                f"$snapshots just under a record, {BOMB_BYTES / MIB:.1f} MiB",
                "RecordingsFunction",
                "/s/",
                _snapshots_just_under_a_record,
            ),
        )
    ]
    result += [
        Case(f"empty objects, {BOMB_BYTES / MIB:.1f} MiB", function, path, lambda: _gzip(_array_of(b"{},")))
        for function, path in ROUTES
    ]
    result += [
        Case("one $snapshot as posthog-js sends it, the largest body", "RecordingsFunction", "/s/",
             _one_snapshot_as_posthog_js_sends_it),
        Case(f"one $snapshot of {BOMB_BYTES / MIB:.1f} MiB, an astral character first", "RecordingsFunction",
             "/s/", _one_snapshot_at_the_payload_limit),
        Case(f"$snapshots just under a record, {BOMB_BYTES / MIB:.1f} MiB", "RecordingsFunction", "/s/",
             _snapshots_just_under_a_record),
        Case("tiny $snapshots, all stored", "RecordingsFunction", "/s/", _most_snapshots_stored),
    ]  # fmt: skip
    result += [
        Case(
            "browser batch, 20 MiB gzip'd",
            "BatchFunction",
            "/batch/",
            lambda: _gzip(_browser_batch(BOMB_BYTES)),
        ),
        Case(
            "browser batch, 20 MiB gzip'd",
            "CaptureFunction",
            "/e/",
            lambda: _gzip(_browser_batch(BOMB_BYTES)),
        ),
        Case(
            "one event of 1,000 KiB properties",
            "CaptureFunction",
            "/capture/",
            lambda: json.dumps(
                {"api_key": TOKEN, "event": "e", "distinct_id": "u", "properties": {"x": "y" * 1_020_000}}
            ).encode(),
            "application/json",
        ),
        Case(
            "nesting 100,000 deep", "CaptureFunction", "/e/", lambda: _gzip(b"[" * 100_000 + b"]" * 100_000)
        ),
        Case(
            "multipart, 22,000 parts in 1 MB",
            "CaptureFunction",
            "/e/",
            lambda: _multipart(*[('Content-Disposition: form-data; name="x"', b"")] * 22_000),
            MULTIPART,
        ),
        Case(
            "multipart, 64 KB Content-Disposition of ;",
            "CaptureFunction",
            "/e/",
            lambda: _multipart(
                ('Content-Disposition: form-data; name="data"' + ";" * 65_536, _events_data())
            ),
            MULTIPART,
        ),
        Case(
            "multipart, 128 KB of RFC 2047 words",
            "CaptureFunction",
            "/e/",
            lambda: _multipart(
                (
                    'Content-Disposition: form-data; name="data"; x="' + "=?utf-8?q?a?= " * 9_400 + '"',
                    _events_data(),
                )
            ),
            MULTIPART,
        ),
        Case(
            "lz-string bomb",
            "CaptureFunction",
            "/e/",
            _lz_string_bomb,
            "application/x-www-form-urlencoded",
            "compression=lz64",
        ),
        Case(
            "lz-string, the largest body of codes naming one entry",
            "CaptureFunction",
            "/e/",
            _lz_string_most_codes,
            "application/x-www-form-urlencoded",
            "compression=lz64",
        ),
        Case(
            "lz-string, the largest body of literals",
            "CaptureFunction",
            "/e/",
            _lz_string_literals,
            "application/x-www-form-urlencoded",
            "compression=lz64",
        ),
    ]
    return result


class _LzStream:
    """An lz-string stream written code by code, as `compressToBase64` lays it out: each value
    least significant bit first, six bits to a character. It builds streams no compressor writes
    (codes that only ever name one entry, literals forever) in a fraction of a second."""

    def __init__(self, first: int = 65, literal_bits: int = 8) -> None:
        self.literal = first
        self.parts = [("0" if literal_bits == 8 else "1") + "0", format(first, f"0{literal_bits}b")[::-1]]
        self.bits = 2 + literal_bits
        self.size, self.width, self.wider_at = 4, 3, 8  # the dictionary, as the decoder grows it

    def codes(self, code: int | None, bits_left: int, literal_bits: int = 0) -> None:
        """The same `code` (each followed by the first literal again, when `literal_bits`), or with
        `None` each code naming the entry it is about to make, until `bits_left` are used."""
        entries = 2 if literal_bits else 1
        literal = format(self.literal, f"0{literal_bits}b")[::-1] if literal_bits else ""
        while True:
            turn = self.width + literal_bits
            count = min(-(-(self.wider_at - self.size) // entries), (bits_left - self.bits) // turn)
            if count <= 0:
                return
            if code is None:
                chunk = "".join(format(self.size + i, f"0{self.width}b")[::-1] for i in range(count))
            else:
                chunk = (format(code, f"0{self.width}b")[::-1] + literal) * count
            self.parts.append(chunk)
            self.bits += turn * count
            self.size += entries * count
            if self.size >= self.wider_at:
                self.wider_at <<= 1
                self.width += 1

    def form_body(self) -> bytes:
        """The stream with its end marker, as the `data` field of a form."""
        bits = "".join([*self.parts, format(2, f"0{self.width}b")[::-1]])
        bits += "0" * (-len(bits) % 24)  # whole base64 groups: zeros after the end marker
        text = base64.b64encode(int(bits, 2).to_bytes(len(bits) // 8, "big"))
        return b"data=" + text.replace(b"+", b"%2B")


def _lz_bits() -> int:
    """As many lz-string bits as fill the largest body a function receives."""
    return (_lambda_body_bytes() - len("data=") - 64) * 6


def _lz_string_bomb() -> bytes:
    """Each code names the entry it is about to make: the output grows as the square of the
    codes, and passes the payload limit from a few kilobytes."""
    stream = _LzStream(0x4E00, 16)  # a character that takes two bytes in a Python string
    stream.codes(None, 2 + 16 + 200_000)
    return stream.form_body()


def _lz_string_most_codes() -> bytes:
    """A full body of codes that all name the first entry: the most dictionary entries (and
    strings) a body can make, one output character each."""
    stream = _LzStream()
    stream.codes(3, _lz_bits())
    return stream.form_body()


def _lz_string_literals() -> bytes:
    """A full body of literals, as no compressor writes them (it writes each character once)."""
    stream = _LzStream(0x4E00, 16)
    stream.codes(1, _lz_bits(), literal_bits=16)
    return stream.form_body()


# The measuring server of one function: imports its handler as Lambda does and serves a small
# request on each path it will serve, to warm it; then, for each case on stdin (a JSON line),
# forks a child that serves the case's request once and prints what it cost. A forked child
# starts as a fresh process would at that point (the same modules, the same warm state), without
# paying for the imports again.
SERVER = """
import gc, json, os, resource, sys, time
sys.path[:0] = {paths!r}
import boto3
from fake_aws import FakeAws
FakeAws().install_everywhere()
from capture_local.lambda_context import lambda_context
from capture_local.rest_event import build_rest_event
import {module} as handler_module
def event(path, body, content_type, query="", headers=()):
    headers = {{"Content-Type": content_type, **dict(headers)}}
    return build_rest_event("POST", path, None, headers, query, body, "203.0.113.1")
context = lambda: lambda_context("{function}", {memory}, {timeout})
answers = os.fdopen(os.dup(1), "w")
sys.stdout = open(os.devnull, "w")
warm = json.dumps({{"api_key": "{token}", "event": "warm", "distinct_id": "u"}}).encode()
for path in {warm_paths!r}:
    handler_module.lambda_handler(event(path, warm, "application/json"), context())
gc.collect()
def peak_mb(usage):
    # VmHWM: this process's own high-water mark (ru_maxrss would start at the parent's, which the
    # kernel carries across fork and exec).
    try:
        with open("/proc/self/status") as status:
            return next(int(line.split()[1]) for line in status if line.startswith("VmHWM")) / 1024
    except OSError:
        return usage.ru_maxrss / 1024
def serve(case):
    body = open(case["body_file"], "rb").read()
    request = event(case["path"], body, case["content_type"], case["query"], case["headers"])
    del body
    gc.collect()
    usage = resource.getrusage(resource.RUSAGE_SELF)
    cpu = usage.ru_utime + usage.ru_stime
    answer = handler_module.lambda_handler(request, context())
    usage = resource.getrusage(resource.RUSAGE_SELF)
    answered = json.loads(answer.get("body") or "{{}}") if answer["statusCode"] >= 400 else {{}}
    code = answered.get("code") or answered.get("error")  # capture v1's error format names it "error"
    return {{"status": answer["statusCode"], "code": code, "peak_mb": peak_mb(usage),
            "cpu_s": usage.ru_utime + usage.ru_stime - cpu}}
for line in sys.stdin:
    child = os.fork()
    if child == 0:
        try:
            report = serve(json.loads(line))
        except BaseException as error:
            report = {{"failed": repr(error)[-3000:]}}
        answers.write(json.dumps(report) + "\\n")
        answers.flush()
        os._exit(0)
    os.waitpid(child, 0)
"""


class Server:
    """One function's measuring server (one at a time: a lock keeps its cases apart)."""

    def __init__(
        self, function: Function, firehose: str, warm_paths: list[str], python: str = sys.executable
    ) -> None:
        code = SERVER.format(
            warm_paths=warm_paths,
            paths=[str(ROOT / function.folder), str(ROOT / "bench")],
            module=function.module,
            function=function.name,
            memory=function.memory_mb,
            timeout=function.timeout_s,
            token=TOKEN,
        )
        self.function = function
        self.process = subprocess.Popen(
            [python, "-c", code],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=_environment(function, firehose),
            cwd=ROOT,
        )
        self.lock = threading.Lock()

    def measure(self, case: Case, body_file: Path) -> Result:
        job = {
            "body_file": str(body_file),
            "path": case.path,
            "content_type": case.content_type,
            "query": case.query,
            "headers": case.headers,
        }
        assert self.process.stdin is not None
        assert self.process.stdout is not None
        with self.lock:
            self.process.stdin.write(json.dumps(job) + "\n")
            self.process.stdin.flush()
            line = self.process.stdout.readline()
        if not line:
            assert self.process.stderr is not None
            raise RuntimeError(
                f"{case.name}: the measuring server ended:\n{self.process.stderr.read()[-3000:]}"
            )
        report: dict[str, Any] = json.loads(line)
        if "failed" in report:
            raise RuntimeError(f"{case.name}: the measured request failed: {report['failed']}")
        return Result(
            case, self.function, report["status"], report["code"], report["peak_mb"], report["cpu_s"]
        )

    def close(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.close()
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            self.process.kill()


@dataclass(frozen=True)
class Result:
    case: Case
    function: Function
    status: int
    code: str | None
    peak_mb: float
    cpu_s: float

    @property
    def memory_limit_mb(self) -> float:
        return self.function.memory_mb * MEMORY_TARGET

    @property
    def lambda_cpu_s(self) -> float:
        """The CPU time scaled to the function's share of a vCPU (1 vCPU at 1,769 MB)."""
        return self.cpu_s * max(1.0, LAMBDA_MB_PER_VCPU / self.function.memory_mb)

    @property
    def within_limits(self) -> bool:
        return self.peak_mb <= self.memory_limit_mb and self.lambda_cpu_s <= self.function.timeout_s


def _environment(function: Function, firehose: str) -> dict[str, str]:
    return {
        **os.environ,
        "BENCH_FIREHOSE": firehose,
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "AWS_DEFAULT_REGION": "us-east-1",
        "EVENTS_STREAM_NAME": "bench-events",
        "API_KEYS_TABLE_NAME": "bench-keys",
        "POWERTOOLS_SERVICE_NAME": "capture",
        "POWERTOOLS_METRICS_NAMESPACE": "Bench",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_LOG_LEVEL": "ERROR",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(function.memory_mb),
    }


def run_all(selected: list[Case] | None = None, workers: int = 2) -> Iterator[Result]:
    """Every case measured in a process of its function's own, forked from its measuring server;
    one worker builds a body while the other measures."""
    functions = template_functions()
    chosen = selected if selected is not None else cases()
    servers: dict[tuple[str, str], Server] = {}
    servers_lock = threading.Lock()

    def server_for(case: Case) -> Server:
        with servers_lock:
            key = (case.function, case.firehose)
            if key not in servers:
                paths = sorted({other.path for other in chosen if (other.function, other.firehose) == key})
                servers[key] = Server(functions[case.function], case.firehose, paths)
            return servers[key]

    with tempfile.TemporaryDirectory(prefix="worst-case-") as folder:

        def build_and_measure(index: int) -> Result:
            case = chosen[index]
            path = Path(folder) / f"{index}.body"
            path.write_bytes(case.build())
            try:
                return server_for(case).measure(case, path)
            finally:
                path.unlink()

        try:
            with ThreadPoolExecutor(workers) as pool:
                yield from pool.map(build_and_measure, range(len(chosen)))
        finally:
            for server in servers.values():
                server.close()


def table(results: list[Result]) -> str:
    rows = [
        "| input | route | answer | peak memory | target | CPU (at Lambda's share) | target | |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for result in results:
        answer = f"{result.status} {result.code or ''}".strip()
        rows.append(
            f"| {result.case.name} | {result.case.path} | {answer} | {result.peak_mb:.0f} MB | "
            f"<= {result.memory_limit_mb:.0f} MB | {result.cpu_s:.2f} s ({result.lambda_cpu_s:.1f} s) | "
            f"<= {result.function.timeout_s:g} s | {'pass' if result.within_limits else 'FAIL'} |"
        )
    return "\n".join(rows)


if __name__ == "__main__":
    print(table(list(run_all())))
