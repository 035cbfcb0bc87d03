"""Runs each function as Lambda does, in a container of its own: its modules, environment, stdout.

Lambda imports the `Handler` module in a fresh interpreter, code folder first on `sys.path`, layers
after it. Here the code's and layers' modules are imported anew and kept out of `sys.modules`, so
functions never share module state; the function's environment is the process's only during the
import, when the layer reads its settings, credentials and region, so nothing else (a unit test,
another function) sees them. While a function runs, `sys.stdout` gives its thread's writes (log
lines, EMF metrics) to its invocation; imports too, as the Logger keeps the stream it finds."""

import importlib
import io
import json
import os
import sys
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from capture_local.functions import FunctionSpec
from capture_local.lambda_context import lambda_context

Handler = Callable[[dict[str, Any], Any], Any]
# Variables that would send boto3 elsewhere than the fake credentials and the local endpoint.
SHADOWING_VARIABLES = ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ENDPOINT_URL")


class _PerThreadStdout(io.TextIOBase):
    def __init__(self) -> None:
        self._lock, self._thread, self._users = threading.Lock(), threading.local(), 0
        self._replaced: TextIO = sys.__stdout__ or io.StringIO()

    def write(self, text: str) -> int:
        chunks: list[str] | None = getattr(self._thread, "chunks", None)
        if chunks is None:
            return self._replaced.write(text)
        chunks.append(text)
        return len(text)

    @contextmanager
    def captured(self) -> Iterator[list[str]]:
        """Yields a list that holds, after the block, the lines this thread wrote meanwhile."""
        with self._lock:
            if sys.stdout is not self:
                self._replaced, sys.stdout = sys.stdout, self
            self._users += 1
        self._thread.chunks, lines = [], list[str]()
        try:
            yield lines
        finally:
            lines += [line for line in "".join(self._thread.chunks).splitlines() if line.strip()]
            self._thread.chunks = None
            with self._lock:
                self._users -= 1
                if self._users == 0 and sys.stdout is self:
                    sys.stdout = self._replaced


FUNCTION_STDOUT = _PerThreadStdout()


def _modules_under(roots: tuple[Path, ...]) -> dict[str, Any]:
    def inside(module: Any) -> bool:
        file = getattr(module, "__file__", None)
        return isinstance(file, str) and any(Path(file).resolve().is_relative_to(root) for root in roots)

    return {name: module for name, module in list(sys.modules.items()) if inside(module)}


@contextmanager
def _container(spec: FunctionSpec, variables: Mapping[str, str]) -> Iterator[None]:
    """Imports inside this block see none of the function's modules imported before it, leave none
    behind for the rest of the process, and see the environment `variables`, only meanwhile."""
    roots = tuple(path.resolve() for path in (spec.code_dir, *spec.layer_dirs))
    # Kept on sys.path afterwards, as in Lambda, for imports a handler may make later.
    folders = [str(root) for root in roots]
    sys.path[:] = [*folders, *(entry for entry in sys.path if entry not in folders)]
    earlier, environment = _modules_under(roots), dict(os.environ)
    for name in earlier:
        del sys.modules[name]
    for name in SHADOWING_VARIABLES:
        os.environ.pop(name, None)
    os.environ.update(variables)
    importlib.invalidate_caches()
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(environment)
        for name in _modules_under(roots):
            del sys.modules[name]
        sys.modules.update(earlier)


def load_handler(spec: FunctionSpec, variables: Mapping[str, str]) -> Handler:
    """The handler, imported in its own container with the environment `variables`."""
    module_name, _, function = spec.handler.rpartition(".")
    with _container(spec, variables), FUNCTION_STDOUT.captured():
        return getattr(importlib.import_module(module_name), function)  # type: ignore[no-any-return]


def _metric_totals(lines: list[str]) -> dict[str, float]:
    """The EMF metrics an invocation published, summed by name."""
    totals: dict[str, float] = {}
    for line in (line for line in lines if line.startswith('{"_aws"')):
        with suppress(ValueError, TypeError, AttributeError):
            document = json.loads(line)
            names = [
                metric["Name"]
                for directive in document["_aws"]["CloudWatchMetrics"]
                for metric in directive.get("Metrics", [])
            ] or [name for name in _STORED_METRICS if name in document]
            for name in names:
                values = document.get(name, 0)  # a list when added more than once
                totals[name] = totals.get(name, 0) + float(
                    sum(values) if isinstance(values, list) else values
                )
    return totals


# What the log line says an invocation stored, from the metrics it published.
_STORED_METRICS = (
    "EventsAccepted",
    "RecordingEventsAccepted",
    "RecordingEventsIgnored",
    "EventsDroppedByQuota",
    "RecordingEventsDroppedByQuota",
)


def stored_text(lines: list[str]) -> str:
    """What an invocation stored, in a few words: "3 events", "2 recordings", or why none was."""
    totals = _metric_totals(lines)
    recordings = int(totals.get("RecordingEventsAccepted", 0))
    if recordings:
        return f"{recordings} recording{'s' * (recordings != 1)}"
    events = int(totals.get("EventsAccepted", 0))
    text = f"{events} event{'s' * (events != 1)}"
    if totals.get("RecordingEventsIgnored"):
        return f"{text} (recording is off for the project: nothing stored)"
    if totals.get("EventsDroppedByQuota") or totals.get("RecordingEventsDroppedByQuota"):
        return f"{text} (the project is over its quota: nothing stored)"
    return text


@dataclass
class Invocation:
    result: Any = None  # the proxy response
    error: Exception | None = None  # or what the handler raised
    output: list[str] = field(default_factory=list)  # the lines it wrote to stdout


@dataclass
class LocalFunction:
    """One function's container: its handler, invoked one event at a time like a Lambda execution
    environment (Powertools keeps per-invocation state in module-level objects)."""

    spec: FunctionSpec
    handler: Handler
    region: str
    lock: threading.Lock = field(default_factory=threading.Lock)

    def invoke(self, event: Mapping[str, Any], request_id: str) -> Invocation:
        spec, invocation = self.spec, Invocation()
        sizing = (spec.logical_id, spec.memory_mb, spec.timeout_s)
        context = lambda_context(*sizing, region=self.region, request_id=request_id)
        with self.lock, FUNCTION_STDOUT.captured() as invocation.output:
            try:
                invocation.result = self.handler(dict(event), context)
            except Exception as error:  # API Gateway answers a function error itself
                invocation.error = error
        return invocation
