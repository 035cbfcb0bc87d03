"""Serves the local API Gateway over HTTP/1.1 with werkzeug's threaded server, keeping connections
open between requests, as API Gateway does: the PostHog SDKs reuse them."""

import socket
import threading
from typing import Any

from capture_core.limits import API_GATEWAY_MAX_BODY_BYTES
from werkzeug.serving import WSGIRequestHandler, make_server
from werkzeug.wsgi import LimitedStream

from capture_local.gateway import RAW_HEADERS, Gateway

# Of a body refused unread, this much is read and dropped: a close with unread data resets the client.
_DISCARD_AT_MOST = 64 * 1024 * 1024


class _Handler(WSGIRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 30  # seconds an idle keep-alive connection (and its thread) lives, the server stopped or not

    def _length(self) -> int:
        text = self.headers.get("Content-Length") or "0"
        return int(text) if text.isdigit() else 0

    def handle_expect_100(self) -> bool:
        # A client that asks first gets the 413 instead of "100 Continue", and keeps its body.
        return self._length() > API_GATEWAY_MAX_BODY_BYTES or super().handle_expect_100()

    def run_wsgi(self) -> None:
        # werkzeug's own runner closes every connection after one request. This one keeps it open,
        # since the gateway reads each body whole or answers with "Connection: close".
        environ, answer = self.make_environ(), list[Any]()
        environ[RAW_HEADERS] = list(self.headers.items())
        if not environ.get("wsgi.input_terminated"):
            # The body ends at its declared length: what follows is the connection's next request.
            environ["wsgi.input"] = LimitedStream(self.rfile, self._length())  # type: ignore[arg-type]

        def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            answer.extend([status, headers])
            return self.wfile.write

        body = b"".join(self.server.app(environ, start_response))
        code, _, reason = answer[0].partition(" ")
        self.send_response(int(code), reason)
        for name, value in answer[1]:
            self.send_header(name, value)  # "Connection: close" sets close_connection
        self.end_headers()
        self.wfile.write(body if self.command != "HEAD" else b"")
        self.wfile.flush()
        stream, expects = environ["wsgi.input"], self.headers.get("Expect", "").lower() == "100-continue"
        if self.close_connection and isinstance(stream, LimitedStream) and not expects:
            remaining = min(stream.limit - stream.tell(), _DISCARD_AT_MOST)
            while remaining > 0 and (chunk := self.rfile.read(min(remaining, 1 << 16))):
                remaining -= len(chunk)

    def log(self, type: str, message: str, *args: Any) -> None:
        """No werkzeug access or error log: the gateway writes one line per request itself."""


class ApiServer:
    """werkzeug's threaded server for the gateway, started."""

    def __init__(self, host: str, port: int, gateway: Gateway) -> None:
        try:  # bound here, so that a busy port is an error to report (werkzeug would exit)
            listener = socket.create_server((host, port))
        except OSError as error:
            message = f"cannot serve the API on {host}:{port} ({error.strerror}); set PORT to a free port"
            raise OSError(message) from error
        with listener:
            fd, port = listener.fileno(), listener.getsockname()[1]
            self._server = make_server(host, port, gateway, threaded=True, request_handler=_Handler, fd=fd)
        self.port = port
        threading.Thread(target=self._server.serve_forever, name="capture-local-api", daemon=True).start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
