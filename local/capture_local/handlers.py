"""Loads each function's handler the way Lambda does, and invokes it with a Lambda context.

Lambda puts the function's code folder first on `sys.path` and its layers after it, then imports
the module named by `Handler` ("capture_handler.lambda_handler"). Handler modules configure
themselves from the environment when first imported, so the environment must be in place before
`load_function` runs; a module already imported by this process is reused as it is.
"""

from __future__ import annotations

import importlib
import sys
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from capture_local.functions import FunctionSpec
from capture_local.lambda_context import lambda_context

Handler = Callable[[dict[str, Any], Any], Any]


class HandlerLoadError(RuntimeError):
    """A function's handler cannot be imported as Lambda would import it."""


def _put_on_path(spec: FunctionSpec) -> None:
    code_dir = str(spec.code_dir.resolve())
    if code_dir not in sys.path:
        sys.path.insert(0, code_dir)
    for layer_dir in spec.layer_dirs:
        if str(layer_dir.resolve()) not in sys.path:
            sys.path.append(str(layer_dir.resolve()))


def _check_origin(spec: FunctionSpec, module: Any) -> None:
    # Two functions with one module name would silently share the first one imported.
    origin = Path(getattr(module, "__file__", "") or "").resolve()
    if origin.parent != spec.code_dir.resolve():
        raise HandlerLoadError(
            f"{spec.logical_id}: module {spec.module_name!r} was already imported from {origin}, "
            f"not from {spec.code_dir}; give each function's handler module a distinct name"
        )


def load_handler(spec: FunctionSpec) -> Handler:
    _put_on_path(spec)
    try:
        module = importlib.import_module(spec.module_name)
    except ImportError as error:
        raise HandlerLoadError(f"{spec.logical_id}: cannot import {spec.module_name!r}: {error}") from error
    _check_origin(spec, module)
    handler = getattr(module, spec.handler_name, None)
    if not callable(handler):
        raise HandlerLoadError(f"{spec.logical_id}: {spec.handler} is not a function")
    return handler  # type: ignore[no-any-return]


class LocalFunction:
    """One function's "container": its handler, invoked one event at a time like a Lambda
    execution environment (Powertools keeps per-invocation state in module-level objects)."""

    def __init__(self, spec: FunctionSpec, handler: Handler, region: str) -> None:
        self.spec = spec
        self._handler = handler
        self._region = region
        self._lock = threading.Lock()

    def invoke(self, event: Mapping[str, Any], request_id: str) -> Any:
        context = lambda_context(
            self.spec.logical_id,
            self.spec.memory_mb,
            self.spec.timeout_s,
            region=self._region,
            request_id=request_id,
        )
        with self._lock:
            started = time.monotonic()
            try:
                return self._handler(dict(event), context)
            finally:
                elapsed = time.monotonic() - started
                if elapsed > self.spec.timeout_s:
                    print(
                        f"warning: {self.spec.logical_id} ran {elapsed:.1f} s, over its Timeout of "
                        f"{self.spec.timeout_s:g} s: on AWS this invocation would have been stopped",
                        file=sys.stderr,
                    )


def load_function(spec: FunctionSpec, region: str) -> LocalFunction:
    return LocalFunction(spec, load_handler(spec), region)
