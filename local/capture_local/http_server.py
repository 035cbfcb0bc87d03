"""Serves a `Gateway` over HTTP/1.1 with keep-alive (the PostHog SDKs reuse connections)."""

from __future__ import annotations

import sys
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from capture_local.gateway import API_GATEWAY_MAX_BODY_BYTES, Gateway, HttpRequest, HttpResponse

_DISCARD_AT_MOST = 64 * 1024 * 1024


class BodyTooLarge(Exception):
    """The request body is over the limit; it was not (completely) read."""


class _RequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "capture-local"
    # Idle keep-alive connections are dropped after this long: a stopped server's connection
    # threads do not outlive it by more.
    timeout = 30
    server: GatewayHttpServer

    def _read_chunked(self, limit: int) -> bytes:
        body = bytearray()
        while True:
            size_line = self.rfile.readline(1024)
            size = int(size_line.split(b";", 1)[0].strip() or b"0", 16)
            if size == 0:
                # Trailers, if any, end with an empty line.
                while self.rfile.readline(65537).strip():
                    pass
                return bytes(body)
            if len(body) + size > limit:
                raise BodyTooLarge
            body += self.rfile.read(size)
            self.rfile.readline(3)

    def _declared_length(self) -> int:
        return int(self.headers.get("Content-Length") or 0)

    def _read_body(self, limit: int) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            return self._read_chunked(limit)
        length = self._declared_length()
        if length > limit:
            raise BodyTooLarge
        return self.rfile.read(length) if length > 0 else b""

    def _discard_body(self) -> None:
        # Closing a socket with unread data resets the connection, and the client may then never
        # see the 413 it was sent; reading what was declared (within reason) avoids that.
        remaining = min(self._declared_length(), _DISCARD_AT_MOST)
        while remaining > 0:
            chunk = self.rfile.read(min(remaining, 1 << 16))
            if not chunk:
                return
            remaining -= len(chunk)

    def handle_expect_100(self) -> bool:
        # A client that asks first is told "too large" before it sends the body.
        try:
            too_large = self._declared_length() > self.server.max_body_bytes
        except ValueError:
            too_large = False
        if too_large:
            self.close_connection = True
            self._write(self.server.gateway.request_too_large())
            return False
        return super().handle_expect_100()

    def _write(self, response: HttpResponse) -> None:
        self.send_response(response.status)
        for name, value in response.headers:
            if name.lower() not in {"content-length", "connection", "transfer-encoding"}:
                self.send_header(name, value)
        has_body = response.status >= 200 and response.status not in {
            HTTPStatus.NO_CONTENT,
            HTTPStatus.NOT_MODIFIED,
        }
        if has_body:
            self.send_header("Content-Length", str(len(response.body)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if has_body and self.command != "HEAD":
            self.wfile.write(response.body)

    def _serve(self) -> None:
        gateway = self.server.gateway
        try:
            body = self._read_body(self.server.max_body_bytes)
        except BodyTooLarge:
            # The rest of the body is still on the connection: it cannot carry another request.
            self.close_connection = True
            self._write(gateway.request_too_large())
            self._discard_body()
            return
        except ValueError:
            self.close_connection = True
            self.send_error(HTTPStatus.BAD_REQUEST, "Malformed Content-Length or chunked body")
            return
        request = HttpRequest(
            method=self.command,
            target=self.path,
            headers=list(self.headers.items()),
            body=body,
            source_ip=self.client_address[0],
        )
        self._write(gateway.handle(request))

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = do_HEAD = _serve

    def version_string(self) -> str:
        return self.server_version

    def log_message(self, format: str, *args: Any) -> None:
        if self.server.access_log:
            sys.stderr.write(f"{self.address_string()} - {format % args}\n")


class GatewayHttpServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(
        self,
        address: tuple[str, int],
        gateway: Gateway,
        *,
        max_body_bytes: int = API_GATEWAY_MAX_BODY_BYTES,
        access_log: bool = True,
    ) -> None:
        self.gateway = gateway
        self.max_body_bytes = max_body_bytes
        self.access_log = access_log
        super().__init__(address, _RequestHandler)

    @property
    def port(self) -> int:
        return int(self.server_address[1])

    def start(self) -> threading.Thread:
        thread = threading.Thread(target=self.serve_forever, name="capture-local-api", daemon=True)
        thread.start()
        return thread

    def stop(self) -> None:
        self.shutdown()
        self.server_close()
