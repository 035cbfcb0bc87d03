"""The HTTP surface every lane shares: a Powertools resolver whose errors are the contract's.

Lanes add their routes to it; this module maps the one error hierarchy (`errors`) to answers,
and answers unknown paths (404) and methods (405) in the contract's format.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.exceptions import NotFoundError

from capture_core.api import responses
from capture_core.api.request import request_headers
from capture_core.api.routes import ALLOWED_METHODS
from capture_core.errors import CaptureError, MethodNotAllowed, NotFound
from capture_core.observability import logger, metrics

ErrorAnswer = Callable[[CaptureError, Mapping[str, str]], Response[str]]


def create_resolver(
    paths: Collection[str],
    prefixes: Collection[str] = (),
    error_formats: Mapping[str, ErrorAnswer] | None = None,
) -> APIGatewayRestResolver:
    """A resolver with the contract's error answers. The routes' `paths` (without a trailing
    slash) and paths under `prefixes` answer 405 to a method no route takes; others 404.
    `error_formats` gives a path whose lane has an error format of its own (capture v1) its
    answer function; every other path answers in the contract's format."""
    app = APIGatewayRestResolver()
    formats = dict(error_formats or {})

    def answer(failure: CaptureError) -> Response[str]:
        path = app.current_event.path.rstrip("/") or "/"
        return formats.get(path, responses.error)(failure, request_headers(app))

    def is_known(path: str) -> bool:
        return path in paths or any(path.startswith(prefix) for prefix in prefixes)

    @app.exception_handler(CaptureError)  # type: ignore[untyped-decorator]
    def client_error(failure: CaptureError) -> Response[str]:
        metrics.add_metric(name=f"Rejected_{failure.code}", unit="Count", value=1)
        logger.info(
            "Request rejected", extra={"status": failure.status, "code": failure.code, "attr": failure.attr}
        )
        return answer(failure)

    @app.not_found
    def unknown_route(_: NotFoundError) -> Response[str]:
        if is_known(app.current_event.path.rstrip("/") or "/"):
            failure: CaptureError = MethodNotAllowed(
                f"{app.current_event.http_method} is not allowed here: use {', '.join(ALLOWED_METHODS)}."
            )
        else:
            failure = NotFound(f"There is no route {app.current_event.path}.")
        metrics.add_metric(name=f"Rejected_{failure.code}", unit="Count", value=1)
        return answer(failure)

    @app.exception_handler(Exception)  # type: ignore[untyped-decorator]
    def internal_error(failure: Exception) -> Response[str]:
        # No internals in the answer; the log line carries the request id to find the cause.
        logger.exception("Unhandled error")
        metrics.add_metric(name="InternalErrors", unit="Count", value=1)
        return answer(CaptureError("An internal error occurred; it has been logged."))

    return app
