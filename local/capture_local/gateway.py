"""The local API Gateway: one HTTP request in, the matching function's proxy event out, and its
proxy response back as HTTP, with API Gateway's own limits and error answers."""

from __future__ import annotations

import base64
import binascii
import json
import sys
import traceback
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from capture_local.gateway_responses import GatewayAnswer, GatewayResponses
from capture_local.handlers import LocalFunction
from capture_local.names import STAGE
from capture_local.rest_event import ALL_BINARY, build_rest_event
from capture_local.routing import RouteTable

# API Gateway (REST) refuses request payloads over 10 MB before any function runs.
API_GATEWAY_MAX_BODY_BYTES = 10 * 1024 * 1024
# A synchronous Lambda invocation takes at most 6 MB of event JSON (base64 body included), so
# bodies over about 4.5 MB fail even though API Gateway accepted them.
LAMBDA_MAX_EVENT_BYTES = 6 * 1024 * 1024
INTERNAL_SERVER_ERROR = "Internal server error"


@dataclass(frozen=True)
class HttpRequest:
    method: str
    target: str
    headers: Sequence[tuple[str, str]]
    body: bytes
    source_ip: str


@dataclass(frozen=True)
class HttpResponse:
    status: int
    headers: Sequence[tuple[str, str]]
    body: bytes


class MalformedProxyResponse(ValueError):
    """The function returned something API Gateway cannot turn into an HTTP response."""


def _from_answer(answer: GatewayAnswer) -> HttpResponse:
    return HttpResponse(answer.status, list(answer.headers.items()), answer.body)


def _scalar_header(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def proxy_response_to_http(result: Any, request_id: str) -> HttpResponse:
    """API Gateway's reading of a Lambda proxy response."""
    if not isinstance(result, Mapping):
        raise MalformedProxyResponse(f"the handler returned {type(result).__name__}, not an object")
    status = result.get("statusCode")
    if isinstance(status, str) and status.isdigit():
        status = int(status)
    if not isinstance(status, int) or isinstance(status, bool) or not 100 <= status <= 599:
        raise MalformedProxyResponse(f"statusCode {status!r} is not an HTTP status")
    single = result.get("headers") or {}
    multi = result.get("multiValueHeaders") or {}
    if not isinstance(single, Mapping) or not isinstance(multi, Mapping):
        raise MalformedProxyResponse("headers and multiValueHeaders must be objects")
    # A name in both maps takes the multi-value list, as API Gateway merges them.
    merged: dict[str, list[str]] = {name: [_scalar_header(value)] for name, value in single.items()}
    merged.update({name: [_scalar_header(value) for value in values] for name, values in multi.items()})
    if not any(name.lower() == "content-type" for name in merged):
        merged["Content-Type"] = ["application/json"]
    merged["x-amzn-RequestId"] = [request_id]
    body = result.get("body")
    if body is not None and not isinstance(body, str):
        raise MalformedProxyResponse("body must be a string")
    try:
        payload = (
            base64.b64decode(body or "", validate=True)
            if result.get("isBase64Encoded")
            else (body or "").encode()
        )
    except binascii.Error as error:
        raise MalformedProxyResponse(
            f"isBase64Encoded is true but the body is not base64: {error}"
        ) from error
    return HttpResponse(
        status, [(name, value) for name, values in merged.items() for value in values], payload
    )


class Gateway:
    def __init__(
        self,
        routes: RouteTable,
        functions: Mapping[str, LocalFunction],
        responses: GatewayResponses,
        *,
        stage: str = STAGE,
        binary_media_types: Sequence[str] = ALL_BINARY,
    ) -> None:
        self.routes = routes
        self.functions = functions
        self.responses = responses
        self.stage = stage
        self.binary_media_types = binary_media_types

    def request_too_large(self) -> HttpResponse:
        return _from_answer(self.responses.answer("REQUEST_TOO_LARGE", 413, "Request Too Long"))

    def _failure(self, status: int, reason: str) -> HttpResponse:
        print(f"capture-local: {reason}", file=sys.stderr)
        return _from_answer(self.responses.answer("DEFAULT_5XX", status, INTERNAL_SERVER_ERROR))

    def handle(self, request: HttpRequest) -> HttpResponse:
        target = urlsplit(request.target)
        path = target.path or "/"
        route = self.routes.match(request.method, path)
        if route is None:
            answer = self.responses.answer(
                "MISSING_AUTHENTICATION_TOKEN", 403, "Missing Authentication Token"
            )
            return _from_answer(answer)
        request_id = str(uuid.uuid4())
        event = build_rest_event(
            request.method,
            path,
            route.resource,
            request.headers,
            target.query,
            request.body,
            request.source_ip,
            stage=self.stage,
            binary_media_types=self.binary_media_types,
            request_id=request_id,
        )
        event_size = len(json.dumps(event).encode())
        if event_size > LAMBDA_MAX_EVENT_BYTES:
            # Lambda refuses the invocation (RequestEntityTooLargeException) and API Gateway answers
            # with an integration error of its own.
            return self._failure(
                500, f"event of {event_size} bytes is over Lambda's {LAMBDA_MAX_EVENT_BYTES}"
            )
        try:
            result = self.functions[route.function].invoke(event, request_id)
        except Exception:
            traceback.print_exc()
            return self._failure(502, f"{route.function} raised an exception (request {request_id})")
        try:
            return proxy_response_to_http(result, request_id)
        except MalformedProxyResponse as error:
            return self._failure(502, f"malformed Lambda proxy response from {route.function}: {error}")
