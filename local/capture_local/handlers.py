"""Loads each function's handler the way Lambda does, and invokes it with a Lambda context.

Lambda puts the function's code folder first on `sys.path`, its layers after it, and imports the
module named by `Handler` ("capture_handler.lambda_handler") in a fresh interpreter. Here each
load is such a cold start too: the modules of the code folder and the layers are imported anew,
in the current environment, and kept apart from `sys.modules`. So a handler module that reads its
settings at import gets this stack's settings, even when a test imported the same module earlier
with others, and two functions never share module state, as two Lambda containers would not.
"""

from __future__ import annotations

import importlib
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType
from typing import Any

from capture_local.functions import FunctionSpec
from capture_local.lambda_context import lambda_context

Handler = Callable[[dict[str, Any], Any], Any]


class HandlerLoadError(RuntimeError):
    """A function's handler cannot be imported as Lambda would import it."""


def _module_dir(module: ModuleType) -> Path | None:
    file = getattr(module, "__file__", None)
    return Path(file).resolve().parent if file else None


def _modules_under(roots: tuple[Path, ...]) -> dict[str, ModuleType]:
    found = {}
    for name, module in list(sys.modules.items()):
        folder = _module_dir(module) if module is not None else None
        if folder is not None and any(folder.is_relative_to(root) for root in roots):
            found[name] = module
    return found


@contextmanager
def _container(spec: FunctionSpec) -> Iterator[None]:
    """Imports inside this block see none of the function's modules imported before it, and leave
    none behind for the rest of the process."""
    roots = tuple(path.resolve() for path in (spec.code_dir, *spec.layer_dirs))
    # Kept on sys.path afterwards, as in Lambda, for imports a handler may make later.
    for position, root in enumerate(roots):
        if str(root) in sys.path:
            sys.path.remove(str(root))
        sys.path.insert(position, str(root))
    earlier = _modules_under(roots)
    for name in earlier:
        del sys.modules[name]
    importlib.invalidate_caches()
    try:
        yield
    finally:
        for name in _modules_under(roots):
            del sys.modules[name]
        sys.modules.update(earlier)


def load_handler(spec: FunctionSpec) -> Handler:
    with _container(spec):
        try:
            module = importlib.import_module(spec.module_name)
        except ImportError as error:
            message = f"{spec.logical_id}: cannot import {spec.module_name!r}: {error}"
            raise HandlerLoadError(message) from error
    if _module_dir(module) != spec.code_dir.resolve():
        raise HandlerLoadError(f"{spec.logical_id}: {spec.module_name!r} was found outside {spec.code_dir}")
    handler = getattr(module, spec.handler_name, None)
    if not callable(handler):
        raise HandlerLoadError(f"{spec.logical_id}: {spec.handler} is not a function")
    return handler  # type: ignore[no-any-return]


class LocalFunction:
    """One function's container: its handler, invoked one event at a time like a Lambda
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
