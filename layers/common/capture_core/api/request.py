"""The transport view of a request: what API Gateway's proxy event says, whatever the lane."""

from __future__ import annotations

import base64
import binascii
import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from aws_lambda_powertools.event_handler import APIGatewayRestResolver

from capture_core.errors import InvalidPayload, RequestTooLarge

# The longest text form of an IP address (IPv6 with an embedded IPv4 part).
MAX_ADDRESS_LENGTH = 45


@dataclass(frozen=True, slots=True)
class HttpRequest:
    """A request as the lanes see it: headers keyed by lower-case names, the body as bytes."""

    method: str
    path: str
    query: Mapping[str, str]
    headers: Mapping[str, str]
    body: bytes
    source_ip: str | None = None

    @property
    def client_ip(self) -> str | None:
        # The left-most X-Forwarded-For entry is the client as the first proxy saw it; it is the
        # client's own word, so only an IP address is taken (a long string would be copied into
        # every stored event).
        forwarded = self.headers.get("x-forwarded-for", "").split(",", 1)[0].strip()
        if forwarded and len(forwarded) <= MAX_ADDRESS_LENGTH:
            try:
                return str(ipaddress.ip_address(forwarded))
            except ValueError:
                pass
        return self.source_ip


def page_origin(headers: Mapping[str, str]) -> str | None:
    """The origin of the page a browser asks from: its `Origin` header, else its `Referer`'s
    scheme and host (a same-origin GET carries no Origin). None from a server or a bare client."""
    origin = headers.get("origin", "").strip()
    if origin and origin != "null":
        return origin
    referer = urlsplit(headers.get("referer", "").strip())
    return f"{referer.scheme}://{referer.netloc}" if referer.scheme and referer.netloc else None


def request_headers(app: APIGatewayRestResolver) -> dict[str, str]:
    """The current request's headers, keyed by lower-case names."""
    return {name.lower(): value for name, value in (app.current_event.headers or {}).items()}


def current_request(app: APIGatewayRestResolver, max_request_bytes: int) -> HttpRequest:
    """The current API Gateway event as an `HttpRequest`, its body decoded from base64."""
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
        headers=request_headers(app),
        body=body,
        source_ip=event.request_context.identity.source_ip,
    )
