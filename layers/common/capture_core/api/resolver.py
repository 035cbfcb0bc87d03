"""The HTTP surface every lane shares: a Powertools resolver whose errors are the contract's.

Lanes add their routes to it; this module maps the one error hierarchy (`errors`) to answers,
and answers unknown paths (404) and methods (405) in the contract's format.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.utilities.typing import LambdaContext

from capture_core.api import responses
from capture_core.api.request import request_headers
from capture_core.errors import CaptureError, MethodNotAllowed, NotFound
from capture_core.observability import logger, metrics

ErrorAnswer = Callable[[CaptureError, Mapping[str, str]], Response[str]]


def without_base_path(path: str, base_path: str) -> str:
    """`path` as the routes know it: without the base path (`ingest`, `/ingest`) in front, if it
    is there."""
    base_path = f"/{base_path.strip('/')}" if base_path.strip("/") else ""
    if not base_path:
        return path
    if path == base_path:
        return "/"
    return path[len(base_path) :] if path.startswith(f"{base_path}/") else path


class CaptureResolver(APIGatewayRestResolver):
    """Powertools' REST resolver, for an API reachable under a custom domain's base path too.

    API Gateway keeps a base path mapping's base path in the event's `path` (`/ingest/e/` for
    `https://example.com/ingest/e/`) but not in `resource`. Powertools' `strip_prefixes` would
    strip it for route matching only, while the lanes read `current_event.path` as well (`/engage`
    names its events, capture v1 answers in its own format, a known path answers 405): so the
    event's path loses the base path once, before anything reads it. Requests to the execute-api
    URL, without the base path, are unchanged.
    """

    def __init__(self, base_path: str = "", *, documented: bool = False) -> None:
        super().__init__()
        self.base_path = base_path
        # Built to be documented (the OpenAPI document), or to serve (Lambda): only the former
        # imports the public models and pydantic, about 100 ms of cold start.
        self.documented = documented
        # Each route's path as Powertools matches it, and its methods: what a 405 allows.
        self._methods: dict[str, tuple[re.Pattern[str], list[str]]] = {}

    def add(self, path: str, method: str, handler: Callable[..., Any], **fields: Any) -> None:
        self.route(path, method=method, **fields)(handler)
        self._methods.setdefault(path, (self._compile_regex(path), []))[1].append(method)

    def allowed_methods(self, path: str) -> tuple[str, ...]:
        """The methods of every route whose path matches `path` (none: no route has it)."""
        found = {method for rule, methods in self._methods.values() if rule.match(path) for method in methods}
        return tuple(sorted(found, key=_METHOD_ORDER.index))

    def resolve(self, event: Mapping[str, Any], context: LambdaContext) -> dict[str, Any]:
        path = event.get("path")
        if self.base_path.strip("/") and isinstance(path, str):
            event = {**event, "path": without_base_path(path, self.base_path)}
        return super().resolve(event, context)


def create_resolver(
    error_formats: Mapping[str, ErrorAnswer] | None = None, *, base_path: str = "", documented: bool = False
) -> CaptureResolver:
    """A resolver with the contract's error answers. A path that some route takes answers 405 to a
    method none of its routes takes, naming theirs in `Allow`; any other path 404: one rule for
    every route. `error_formats` gives a path whose lane has an error format of its own (capture
    v1) its answer function; every other path answers in the contract's format. `base_path` is
    the custom domain's base path mapping, if any (settings' `api_base_path`)."""
    app = CaptureResolver(base_path, documented=documented)
    formats = dict(error_formats or {})

    def answer(failure: CaptureError) -> Response[str]:
        path = app.current_event.path.rstrip("/") or "/"
        return formats.get(path, responses.error)(failure, request_headers(app))

    @app.exception_handler(CaptureError)  # type: ignore[untyped-decorator]
    def client_error(failure: CaptureError) -> Response[str]:
        metrics.add_metric(name=f"Rejected_{failure.code}", unit="Count", value=1)
        logger.info(
            "Request rejected", extra={"status": failure.status, "code": failure.code, "attr": failure.attr}
        )
        return answer(failure)

    @app.not_found
    def unknown_route(_: NotFoundError) -> Response[str]:
        method, path = app.current_event.http_method, app.current_event.path
        allowed = app.allowed_methods(path)
        failure: CaptureError = (
            MethodNotAllowed(f"{method} is not allowed here: use {', '.join(allowed)}.", allowed)
            if allowed
            else NotFound(f"There is no route {path}.")
        )
        metrics.add_metric(name=f"Rejected_{failure.code}", unit="Count", value=1)
        return answer(failure)

    @app.exception_handler(Exception)  # type: ignore[untyped-decorator]
    def internal_error(failure: Exception) -> Response[str]:
        # No internals in the answer; the log line carries the request id to find the cause.
        logger.exception("Unhandled error")
        metrics.add_metric(name="InternalErrors", unit="Count", value=1)
        return answer(CaptureError("An internal error occurred; it has been logged."))

    return app


@dataclass(frozen=True, slots=True)
class Doc:
    """How the OpenAPI document describes a route; `responses` names its answers and `parameters`
    the signature of its query, header and body parameters, both in `capture_core.docs.openapi`
    (read only when documenting: the handlers themselves take their path's parameters only)."""

    summary: str
    responses: str
    operation_id: str | None = None
    tags: tuple[str, ...] = ()
    parameters: str | None = None


def add_route(app: CaptureResolver, path: str, method: str, handler: Any, doc: Doc | None = None) -> None:
    """Route `method` on `path` to `handler`, described by `doc` when the resolver is built to be
    documented. A GET route answers HEAD too, as GET without its body (link checkers and CDNs
    ask HEAD)."""
    fields: dict[str, Any] = {}
    if doc is not None and app.documented:
        from capture_core.docs import openapi  # noqa: PLC0415 (the documents only)

        fields = {"summary": doc.summary, "responses": getattr(openapi, doc.responses)}
        if doc.operation_id:
            fields["operation_id"] = doc.operation_id
        if doc.tags:
            fields["tags"] = list(doc.tags)
        handler = _documented(handler, path, getattr(openapi, doc.parameters) if doc.parameters else None)
    app.add(path, method, handler, **fields)
    if method == "GET" and not app.documented:  # HEAD is GET's: the document names GET only
        app.add(path, "HEAD", _without_body(handler))


def _documented(
    handler: Callable[..., Response[str]], path: str, parameters: Callable[..., None] | None
) -> Callable[..., Response[str]]:
    """`handler` with the signature Powertools documents: the path's parameters by name, then
    those of `parameters` (a signature in `capture_core.docs.openapi`)."""
    names = re.findall(r"<(\w+)>", path)
    keyword = inspect.Parameter.KEYWORD_ONLY
    signature = [inspect.Parameter(name, keyword, annotation=str) for name in names]
    if parameters is not None:
        declared = inspect.signature(parameters, eval_str=True).parameters.values()
        signature += [parameter.replace(kind=keyword) for parameter in declared]

    def documented(**values: Any) -> Response[str]:
        return handler(**{name: values[name] for name in names})

    # Its name too: Powertools derives an operation id from it where the route names none.
    documented.__name__ = documented.__qualname__ = handler.__name__
    documented.__signature__ = inspect.Signature(signature, return_annotation=Response[str])  # type: ignore[attr-defined]
    return documented


def _without_body(handler: Callable[..., Response[str]]) -> Callable[..., Response[str]]:
    def head(*args: Any, **kwargs: Any) -> Response[str]:
        answer = handler(*args, **kwargs)
        answer.body = ""
        answer.compress = False
        return answer

    return head


_METHOD_ORDER = ("GET", "HEAD", "POST", "OPTIONS")
