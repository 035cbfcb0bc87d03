"""The event API Gateway (REST API, Lambda proxy integration) hands a function for one request.

Shared by the local gateway and the tests, so both build the same shape as AWS does.
"""

from __future__ import annotations

import base64
import fnmatch
import uuid
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from functools import cache
from typing import Any
from urllib.parse import parse_qsl

from capture_local.functions import function_specs
from capture_local.names import ACCOUNT_ID, DEFAULT_TEMPLATE, STAGE
from capture_local.routing import RouteTable, literal_resource, path_parameters
from capture_local.template import Template

Headers = Mapping[str, str] | Iterable[tuple[str, str]]

# The template's BinaryMediaTypes ("*~1*"): every body reaches the function base64-encoded, intact.
ALL_BINARY = ("*/*",)


@cache
def _template_routes() -> RouteTable:
    specs = function_specs(Template.load(DEFAULT_TEMPLATE))
    return RouteTable.of(route for spec in specs for route in spec.routes)


def resource_for(method: str, path: str) -> str:
    """The resource of the project's API that a request reaches ("/{proxy+}" for unknown paths)."""
    route = _template_routes().match(method, path)
    return route.resource if route else literal_resource(path)


def _last(headers: Mapping[str, list[str]], name: str) -> str | None:
    return next((values[-1] for key, values in headers.items() if key.lower() == name), None)


def _multi_value(pairs: Iterable[tuple[str, str]]) -> dict[str, list[str]]:
    """Values per name, in order. Names differing only in case are one header, spelled as first seen."""
    grouped: dict[str, list[str]] = {}
    spelling: dict[str, str] = {}
    for name, value in pairs:
        key = spelling.setdefault(name.lower(), name)
        grouped.setdefault(key, []).append(value)
    return grouped


def _with_forwarding_headers(headers: dict[str, list[str]], source_ip: str) -> dict[str, list[str]]:
    """API Gateway appends the caller's address to X-Forwarded-For, as a proxy does."""
    result = dict(headers)
    key = next((name for name in result if name.lower() == "x-forwarded-for"), "X-Forwarded-For")
    forwarded = result.get(key, [])
    result[key] = [f"{forwarded[-1]}, {source_ip}" if forwarded else source_ip]
    result.setdefault("X-Forwarded-Proto", ["http"])
    return result


def _is_binary(headers: Mapping[str, list[str]], binary_media_types: Sequence[str]) -> bool:
    # API Gateway matches a request without Content-Type as application/json.
    content_type = _last(headers, "content-type") or ""
    media_type = content_type.split(";", 1)[0].strip().lower() or "application/json"
    return any(
        fnmatch.fnmatchcase(media_type, pattern.replace("~1", "/").lower()) for pattern in binary_media_types
    )


def _request_context(
    *,
    method: str,
    path: str,
    resource: str,
    stage: str,
    headers: Mapping[str, list[str]],
    source_ip: str,
    request_id: str,
    received: datetime,
) -> dict[str, Any]:
    identity: dict[str, Any] = dict.fromkeys(
        (
            "accessKey",
            "accountId",
            "caller",
            "cognitoAuthenticationProvider",
            "cognitoAuthenticationType",
            "cognitoIdentityId",
            "cognitoIdentityPoolId",
            "principalOrgId",
            "user",
            "userArn",
        ),
    )
    identity.update(sourceIp=source_ip, userAgent=_last(headers, "user-agent"))
    return {
        "accountId": ACCOUNT_ID,
        "apiId": "local",
        "domainName": _last(headers, "host") or "localhost",
        "extendedRequestId": str(uuid.uuid4()),
        "httpMethod": method,
        "identity": identity,
        "path": f"/{stage}{path}",
        "protocol": "HTTP/1.1",
        "requestId": request_id,
        "requestTime": received.strftime("%d/%b/%Y:%H:%M:%S +0000"),
        "requestTimeEpoch": int(received.timestamp() * 1000),
        "resourceId": "local",
        "resourcePath": resource,
        "stage": stage,
    }


def build_rest_event(  # noqa: PLR0917 (mirrors the parts of an HTTP request, in their order)
    method: str,
    path: str,
    resource: str | None = None,
    headers: Headers = (),
    query: str = "",
    body: bytes | str | None = None,
    source_ip: str = "127.0.0.1",
    *,
    stage: str = STAGE,
    binary_media_types: Sequence[str] = ALL_BINARY,
    request_id: str | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """The proxy event for one request.

    `path` is the request path without the stage; `resource` the API resource it reached (default:
    the one template.yaml's routes give it); `query` the raw query string, decoded here as API
    Gateway does (percent-escapes, and "+" as a space); `body` the bytes as received.
    """
    method = method.upper()
    resource = resource or resource_for(method, path)
    pairs = list(headers.items()) if isinstance(headers, Mapping) else list(headers)
    multi_headers = _with_forwarding_headers(_multi_value(pairs), source_ip)
    multi_query = _multi_value(parse_qsl(query.removeprefix("?"), keep_blank_values=True))
    raw_body = body.encode() if isinstance(body, str) else body
    binary = _is_binary(multi_headers, binary_media_types)
    event_body: str | None = None
    if raw_body:
        event_body = (
            base64.b64encode(raw_body).decode("ascii") if binary else raw_body.decode("utf-8", "replace")
        )
    context = _request_context(
        method=method,
        path=path,
        resource=resource,
        stage=stage,
        headers=multi_headers,
        source_ip=source_ip,
        request_id=request_id or str(uuid.uuid4()),
        received=now or datetime.now(UTC),
    )
    return {
        "resource": resource,
        "path": path,
        "httpMethod": method,
        # With repeated names, API Gateway keeps the last value in the single-value maps.
        "headers": {name: values[-1] for name, values in multi_headers.items()},
        "multiValueHeaders": multi_headers,
        "queryStringParameters": {name: values[-1] for name, values in multi_query.items()} or None,
        "multiValueQueryStringParameters": multi_query or None,
        "pathParameters": path_parameters(resource, path),
        "stageVariables": None,
        "requestContext": context,
        "body": event_body,
        "isBase64Encoded": event_body is not None and binary,
    }
