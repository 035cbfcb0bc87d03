"""The event API Gateway (REST API, Lambda proxy integration) hands a function for one request;
the local gateway, the tests and the bench share it, so all build the shape AWS builds."""

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
from capture_local.routing import Route, RouteMap, literal_resource, path_parameters
from capture_local.template import Template

Headers = Mapping[str, str] | Iterable[tuple[str, str]]
# The template's BinaryMediaTypes ("*~1*"): every body reaches the function base64-encoded, intact.
ALL_BINARY = ("*/*",)
# What `requestContext.identity` holds besides the caller's address, all null without IAM or Cognito.
_IDENTITY = (  # noqa: SIM905 (one field list, read as such)
    "accessKey accountId caller cognitoAuthenticationProvider cognitoAuthenticationType cognitoIdentityId "
    "cognitoIdentityPoolId principalOrgId user userArn"
).split()


@cache
def _template_routes() -> RouteMap:
    specs = function_specs(Template.load(DEFAULT_TEMPLATE))
    return RouteMap(Route(resource, spec.logical_id) for spec in specs for resource in spec.resources)


def resource_for(path: str) -> str:
    """The resource of the project's API that a request reaches ("/{proxy+}" for unknown paths)."""
    route = _template_routes().match(path)
    return route.resource if route else literal_resource(path)


def _multi_value(pairs: Iterable[tuple[str, str]]) -> dict[str, list[str]]:
    """Values per name, in order. Names differing only in case are one header, spelled as first seen."""
    grouped: dict[str, list[str]] = {}
    spelling: dict[str, str] = {}
    for name, value in pairs:
        grouped.setdefault(spelling.setdefault(name.lower(), name), []).append(value)
    return grouped


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
    """The proxy event for one request: `path` without the stage, at `resource` (by default, the one
    template.yaml's routes give it), with `query` as sent (decoded here as API Gateway does, "+" as
    a space) and `body` as received."""
    method, resource, binary_types = method.upper(), resource or resource_for(path), binary_media_types
    multi_headers = _multi_value(headers.items() if isinstance(headers, Mapping) else headers)
    # API Gateway appends the caller's address to X-Forwarded-For, as a proxy does.
    forwarded = next((name for name in multi_headers if name.lower() == "x-forwarded-for"), "X-Forwarded-For")
    multi_headers[forwarded] = [", ".join([*multi_headers.get(forwarded, [])[-1:], source_ip])]
    multi_headers.setdefault("X-Forwarded-Proto", ["http"])
    # With repeated names, API Gateway keeps the last value in the single-value maps.
    single_headers = {name: values[-1] for name, values in multi_headers.items()}
    lower = {name.lower(): value for name, value in single_headers.items()}
    multi_query = _multi_value(parse_qsl(query.removeprefix("?"), keep_blank_values=True))
    # API Gateway matches a request without Content-Type as application/json.
    media_type = lower.get("content-type", "").split(";", 1)[0].strip().lower() or "application/json"
    binary = any(fnmatch.fnmatchcase(media_type, kind.replace("~1", "/").lower()) for kind in binary_types)
    raw = body.encode() if isinstance(body, str) else body or b""
    text = base64.b64encode(raw).decode() if binary else raw.decode("utf-8", "replace")
    received, identity = now or datetime.now(UTC), dict.fromkeys(_IDENTITY)
    return {
        "resource": resource,
        "path": path,
        "httpMethod": method,
        "headers": single_headers,
        "multiValueHeaders": multi_headers,
        "queryStringParameters": {name: values[-1] for name, values in multi_query.items()} or None,
        "multiValueQueryStringParameters": multi_query or None,
        "pathParameters": path_parameters(resource, path),
        "stageVariables": None,
        "requestContext": {
            "accountId": ACCOUNT_ID,
            "apiId": "local",
            "domainName": lower.get("host", "localhost"),
            "extendedRequestId": str(uuid.uuid4()),
            "httpMethod": method,
            "identity": {**identity, "sourceIp": source_ip, "userAgent": lower.get("user-agent")},
            "path": f"/{stage}{path}",
            "protocol": "HTTP/1.1",
            "requestId": request_id or str(uuid.uuid4()),
            "requestTime": received.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "requestTimeEpoch": int(received.timestamp() * 1000),
            "resourceId": "local",
            "resourcePath": resource,
            "stage": stage,
        },
        "body": text if raw else None,
        "isBase64Encoded": bool(raw) and binary,
    }
