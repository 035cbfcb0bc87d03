"""The HTTP surface: a Powertools resolver with the contract's routes, CORS and error answers."""

from __future__ import annotations

import base64
import binascii
import time
from collections.abc import Callable, Sequence

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.exceptions import NotFoundError

from capture_core import openapi, responses
from capture_core.errors import CaptureError, InvalidPayload, MethodNotAllowed, NotFound, RequestTooLarge
from capture_core.observability import logger, metrics
from capture_core.pipeline import CapturePipeline, HttpRequest
from capture_core.routes import ALLOWED_METHODS
from capture_core.settings import Settings


def create_app(
    paths: Sequence[str],
    pipeline: CapturePipeline,
    settings: Settings,
    *,
    clock: Callable[[], float] = time.monotonic,
) -> APIGatewayRestResolver:
    """A resolver that serves `paths` (with or without a trailing slash) with the capture pipeline."""
    app = APIGatewayRestResolver()

    def capture() -> Response[str]:
        # The Lambda's time counts from the request's arrival: decoding and key lookups spend it
        # too, and the answer must come before the function is stopped.
        remaining = app.lambda_context.get_remaining_time_in_millis() / 1000
        deadline = clock() + remaining - settings.sink_time_margin_seconds
        request = http_request(app, settings.max_request_bytes)
        pipeline.capture(request, deadline=deadline)
        return responses.success(request.headers, beacon=request.query.get("beacon") == "1")

    # The parameters document the routes (OpenAPI); the pipeline reads the request itself, since
    # it accepts more encodings than a schema can describe.
    def capture_post(
        body: openapi.PostBody = None,
        *,
        ip: openapi.Ip = None,
        compression: openapi.Compression = None,
        data: openapi.Data = None,
        beacon: openapi.Beacon = None,
        sent_at: openapi.SentAt = None,
    ) -> Response[str]:
        return capture()

    def capture_get(
        data: openapi.Data = None,
        *,
        ip: openapi.Ip = None,
        compression: openapi.Compression = None,
        beacon: openapi.Beacon = None,
        sent_at: openapi.SentAt = None,
    ) -> Response[str]:
        return capture()

    def preflight() -> Response[str]:
        # Answered without touching the payload: a preflight carries none.
        return responses.preflight(_headers(app))

    for path in paths:
        name = path.strip("/").replace("/", "_")
        for method, route, summary, answers in (
            ("POST", capture_post, f"Capture events ({path}/)", openapi.RESPONSES),
            (
                "GET",
                capture_get,
                f"Capture events from the data query parameter ({path}/)",
                openapi.RESPONSES,
            ),
            ("OPTIONS", preflight, "CORS preflight", openapi.PREFLIGHT_RESPONSES),
        ):
            app.route(
                path,
                method=method,
                summary=summary,
                operation_id=f"{method.lower()}_{name}",
                responses=answers,
                tags=[name],
            )(route)

    @app.exception_handler(CaptureError)  # type: ignore[untyped-decorator]
    def client_error(failure: CaptureError) -> Response[str]:
        metrics.add_metric(name=f"Rejected_{failure.code}", unit="Count", value=1)
        logger.info(
            "Request rejected", extra={"status": failure.status, "code": failure.code, "attr": failure.attr}
        )
        return responses.error(failure, _headers(app))

    @app.not_found
    def unknown_route(_: NotFoundError) -> Response[str]:
        path = app.current_event.path.rstrip("/") or "/"
        if path in paths:
            failure: CaptureError = MethodNotAllowed(
                f"{app.current_event.http_method} is not allowed here: use {', '.join(ALLOWED_METHODS)}."
            )
        else:
            failure = NotFound(f"There is no route {app.current_event.path}.")
        return responses.error(failure, _headers(app))

    @app.exception_handler(Exception)  # type: ignore[untyped-decorator]
    def internal_error(failure: Exception) -> Response[str]:
        # No internals in the answer; the log line carries the request id to find the cause.
        logger.exception("Unhandled error")
        metrics.add_metric(name="InternalErrors", unit="Count", value=1)
        return responses.error(CaptureError("An internal error occurred; it has been logged."), _headers(app))

    return app


def _headers(app: APIGatewayRestResolver) -> dict[str, str]:
    return {name.lower(): value for name, value in (app.current_event.headers or {}).items()}


def http_request(app: APIGatewayRestResolver, max_request_bytes: int) -> HttpRequest:
    """The pipeline's view of the current API Gateway event."""
    event = app.current_event
    raw_body = event.body or ""
    if event.is_base64_encoded:
        # Checked before decoding, so an oversized body costs no memory to reject.
        if len(raw_body) // 4 * 3 > max_request_bytes + 2:
            raise RequestTooLarge(f"The request body is larger than {max_request_bytes} bytes.")
        try:
            body = base64.b64decode(raw_body, validate=True)
        except binascii.Error as error:
            raise InvalidPayload("The request body is not valid base64.") from error
    else:
        body = raw_body.encode("utf-8", errors="surrogateescape")
    if len(body) > max_request_bytes:
        raise RequestTooLarge(f"The request body is larger than {max_request_bytes} bytes.")
    return HttpRequest(
        method=event.http_method,
        path=event.path,
        query=dict(event.query_string_parameters or {}),
        headers=_headers(app),
        body=body,
        source_ip=event.request_context.identity.source_ip,
    )
