"""The local API Gateway (REST API, Lambda proxy integration) as a WSGI application: the proxy event
of a request to the function of the resource it reaches, its proxy response back, and API Gateway's
own limits and error answers; each exchange recorded for whoever asks, and told in one log line."""

from __future__ import annotations

import base64
import json
import sys
import time
import traceback
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from capture_core.limits import API_GATEWAY_MAX_BODY_BYTES, LAMBDA_MAX_EVENT_BYTES
from werkzeug.datastructures import EnvironHeaders
from werkzeug.exceptions import ClientDisconnected
from werkzeug.http import HTTP_STATUS_CODES

from capture_local.exchanges import Recorder, Request, Response
from capture_local.gateway_responses import GatewayResponses
from capture_local.handlers import Invocation, LocalFunction, stored_text
from capture_local.live import LivePage
from capture_local.rest_event import ALL_BINARY, build_rest_event
from capture_local.routing import RouteMap
from capture_local.web_acl import FloodRule

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

# The methods an ANY resource covers; API Gateway answers any other (TRACE, CONNECT, WebDAV's) itself.
METHODS = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"})
# The environ key of the headers as sent (spelling and repeats kept, as API Gateway hands them on).
RAW_HEADERS = "capture_local.headers"


def read_body(environ: WSGIEnvironment) -> bytes | None:
    """The request body; None when it is over API Gateway's cap, read no further than needed to know."""
    if environ.get("wsgi.input_terminated"):  # chunked: its length shows at its end only
        size = API_GATEWAY_MAX_BODY_BYTES + 1
    elif (size := int(environ.get("CONTENT_LENGTH") or 0)) > API_GATEWAY_MAX_BODY_BYTES:
        return None
    body = environ["wsgi.input"].read(size) if size > 0 else b""  # the streams read until `size` or the end
    if len(body) < size and not environ.get("wsgi.input_terminated"):
        raise ConnectionError("the client went away before the end of its body")
    return bytes(body) if len(body) <= API_GATEWAY_MAX_BODY_BYTES else None


def proxy_response(result: Mapping[str, Any], request_id: str) -> Response:
    """API Gateway's reading of a Lambda proxy response; a name in both header maps takes the list."""
    merged = {name: [value] for name, value in (result.get("headers") or {}).items()}
    merged.update(result.get("multiValueHeaders") or {})
    if not any(name.lower() == "content-type" for name in merged):
        merged["Content-Type"] = ["application/json"]
    headers = [(name, str(value)) for name, values in merged.items() for value in values]
    body = result.get("body") or ""
    payload = base64.b64decode(body) if result.get("isBase64Encoded") else body.encode()
    return Response(int(result["statusCode"]), [*headers, ("x-amzn-RequestId", request_id)], payload)


@dataclass
class Gateway:
    routes: RouteMap
    functions: Mapping[str, LocalFunction]
    responses: GatewayResponses
    binary_media_types: Sequence[str] = ALL_BINARY
    # One line per request, never with the query (it carries payloads and keys); `verbose` adds
    # the function's own lines and the traceback of a function error.
    log: Callable[[str], None] | None = None
    verbose: bool = False
    recorders: list[Recorder] = field(default_factory=list)
    # The template's flood protection (AWS WAF, in front of the stage), when its parameter is set.
    web_acl: FloodRule | None = None
    # The live events page under /_local/ (local only: neither logged nor recorded, it polls).
    live: LivePage | None = None

    def handle(self, request: Request) -> tuple[Response, Invocation | None]:
        """The answer to a request whose body API Gateway took, and the invocation behind it."""
        headers, render, target = request.headers, self.responses.render, urlsplit(request.target)
        if request.method not in METHODS:
            return render("DEFAULT_4XX", 405, f"The method {request.method} is not supported.", headers), None
        if (route := self.routes.match(path := target.path or "/")) is None:
            return render("MISSING_AUTHENTICATION_TOKEN", 403, "Missing Authentication Token", headers), None
        request_id = str(uuid.uuid4())
        parts = (request.method, path, route.resource, headers, target.query, request.body, request.source_ip)
        event = build_rest_event(*parts, binary_media_types=self.binary_media_types, request_id=request_id)
        # Lambda refuses the invocation (RequestEntityTooLargeException): a 413 tells the SDK not to
        # send again what can never succeed. (json.dumps writes ASCII: its characters are bytes.)
        if len(json.dumps(event)) > LAMBDA_MAX_EVENT_BYTES:
            return render("REQUEST_TOO_LARGE", 413, "Request Too Long", headers), None
        invocation = self.functions[route.function].invoke(event, request_id)
        if (error := invocation.error) is not None:
            note = f"{type(error).__name__}: {error}".splitlines()[0]
            print(f"capture-local: {route.function} raised {note} (request {request_id})", file=sys.stderr)
            if self.verbose:
                traceback.print_exception(error)
            return render("DEFAULT_5XX", 502, "Internal server error", headers), invocation
        return proxy_response(invocation.result, request_id), invocation

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        started, invocation = time.monotonic(), None
        headers = environ.get(RAW_HEADERS) or list(EnvironHeaders(environ).items())
        refusal = ("REQUEST_TOO_LARGE", 413, "Request Too Long")
        try:
            body = read_body(environ)
        except (ValueError, OSError, ClientDisconnected):  # a malformed length or chunk, a client gone
            body, refusal = None, ("DEFAULT_4XX", 400, "Malformed request body")
        target, source = environ.get("RAW_URI") or environ["PATH_INFO"], environ.get("REMOTE_ADDR", "")
        request = Request(environ["REQUEST_METHOD"], target, headers, body or b"", source)
        if self.live is not None and (page := self.live.handle(request)) is not None:
            wire = [*page.headers, ("Content-Length", str(len(page.body)))]
            start_response(f"{page.status} {HTTP_STATUS_CODES.get(page.status, 'Unknown')}", wire)
            return [] if request.method == "HEAD" else [page.body]
        if self.web_acl is not None and (refused := self.web_acl.refuses(source)) is not None:
            response = refused
        elif body is None:
            response = self.responses.render(*refusal, headers)
        else:
            response, invocation = self.handle(request)
        for recorder in list(self.recorders):
            recorder.record(request, response)
        if self.log is not None:
            output, ms = invocation.output if invocation else [], (time.monotonic() - started) * 1000
            line = f"{request.method} {urlsplit(target).path} {response.status} {stored_text(output)}"
            self.log("\n".join([*(output if self.verbose else []), f"{line} {ms:.0f} ms"]))
        wire = list(response.headers)
        if response.status >= 200 and response.status not in {204, 304}:
            wire.append(("Content-Length", str(len(response.body))))
        if body is None:  # the rest of the body is still on the connection: it cannot carry another request
            wire.append(("Connection", "close"))
        start_response(f"{response.status} {HTTP_STATUS_CODES.get(response.status, 'Unknown')}", wire)
        return [response.body]
