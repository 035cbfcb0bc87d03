"""HTTP answers (docs/protocol.md §7): success, errors, CORS. The one place where errors become
status codes."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import orjson
from aws_lambda_powertools.event_handler import Response

from capture_core.api.routes import ALLOWED_METHODS
from capture_core.errors import CaptureError, MethodNotAllowed, ServiceUnavailable

JSON = "application/json"
JAVASCRIPT = "application/javascript; charset=utf-8"
_SUCCESS_BODY = orjson.dumps({"status": 1}).decode()


# An origin as browsers send it: scheme://host[:port], or "null". Anything else (CR, LF, spaces,
# control characters) is never reflected into a header.
_ORIGIN = re.compile(r"(?:[A-Za-z][A-Za-z0-9+.-]{0,31}://[A-Za-z0-9._~%!$&'()*+,;=:\[\]-]{1,253}|null)")


# A list of header names (RFC 9110 tokens), as preflights ask for them.
_HEADER_NAMES = re.compile(r"[A-Za-z0-9!#$%&'*+.^_`|~-]+(?:[ \t]*,[ \t]*[A-Za-z0-9!#$%&'*+.^_`|~-]+)*")


def cors_headers(request_headers: Mapping[str, str]) -> dict[str, str]:
    """CORS for every answer, errors included: browsers drop events whose answer they cannot read."""
    origin = request_headers.get("origin", "")
    return {
        "Access-Control-Allow-Origin": origin if _ORIGIN.fullmatch(origin) else "*",
        "Access-Control-Allow-Credentials": "true",
        "Vary": "Origin",
    }


def success(
    request_headers: Mapping[str, str], *, beacon: bool = False, quota_limited: tuple[str, ...] = ()
) -> Response[str]:
    """The answer of a stored request. `quota_limited` names the lanes over their quota: posthog-js
    then sends nothing of those lanes for a minute, and asks again."""
    # Exactly 200: posthog-python and posthog-js treat 201 and 204 as failures and resend.
    # Beacons are the exception: navigator.sendBeacon never reads the answer.
    if beacon:
        return Response(
            status_code=204, content_type="text/plain", body="", headers=cors_headers(request_headers)
        )
    body = _SUCCESS_BODY
    if quota_limited:
        body = orjson.dumps({"status": 1, "quota_limited": list(quota_limited)}).decode()
    return Response(status_code=200, content_type=JSON, body=body, headers=cors_headers(request_headers))


def script_json(value: Any) -> str:
    """JSON to embed in a script: no `</script>` can end it, no line separator can break it."""
    text = orjson.dumps(value).decode()
    return text.replace("</", "<\\/").replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")


def document(
    body: Any,
    request_headers: Mapping[str, str],
    *,
    cache_control: str,
    content_type: str = JSON,
    compress: bool = False,
) -> Response[str]:
    """A 200 with a JSON document (or, as text, a script), CORS and caching headers."""
    text = body if isinstance(body, str) else orjson.dumps(body).decode()
    headers = {**cors_headers(request_headers), "Cache-Control": cache_control}
    return Response(status_code=200, content_type=content_type, body=text, headers=headers, compress=compress)


def redirect(location: str, request_headers: Mapping[str, str], *, cache_control: str) -> Response[str]:
    headers = {**cors_headers(request_headers), "Location": location, "Cache-Control": cache_control}
    return Response(status_code=302, content_type="text/plain", body="", headers=headers)


def preflight(request_headers: Mapping[str, str]) -> Response[str]:
    headers = cors_headers(request_headers)
    headers["Access-Control-Allow-Methods"] = ", ".join(ALLOWED_METHODS)
    requested = request_headers.get("access-control-request-headers", "")
    if _HEADER_NAMES.fullmatch(requested):
        headers["Access-Control-Allow-Headers"] = requested
    headers["Access-Control-Max-Age"] = "86400"
    # An explicit type for the empty body: API Gateway would label it application/json.
    return Response(status_code=200, content_type="text/plain", body="", headers=headers)


def error_headers(failure: CaptureError, request_headers: Mapping[str, str]) -> dict[str, str]:
    """CORS, and what the error's status asks for: `Retry-After` where a retry can succeed (and
    nowhere else), `Allow` with a 405."""
    headers = cors_headers(request_headers)
    if isinstance(failure, ServiceUnavailable):
        headers["Retry-After"] = str(failure.retry_after)
    if isinstance(failure, MethodNotAllowed):
        headers["Allow"] = ", ".join(failure.allow)
    return headers


def error(failure: CaptureError, request_headers: Mapping[str, str]) -> Response[str]:
    headers = error_headers(failure, request_headers)
    body = {"type": failure.type, "code": failure.code, "detail": failure.detail, "attr": failure.attr}
    return Response(
        status_code=failure.status, content_type=JSON, body=orjson.dumps(body).decode(), headers=headers
    )
