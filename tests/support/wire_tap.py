"""A recording pass-through proxy on 127.0.0.1: the SDKs talk to it as if it were the API, and the
tests read back every exchange exactly as it crossed the wire (preflights and beacons included,
which a browser's own instrumentation hides or loses when the page unloads)."""

from __future__ import annotations

import gzip
import http.client
import json
import threading
import time
from base64 import b64decode
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

# Hop-by-hop headers are the proxy's own business, not the API's (RFC 9110, section 7.6.1).
_HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "proxy-connection",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
}


@dataclass(frozen=True)
class Exchange:
    method: str
    target: str
    request_headers: dict[str, str]
    body: bytes
    status: int
    response_headers: dict[str, str]
    response_body: bytes

    @property
    def path(self) -> str:
        return urlsplit(self.target).path

    @property
    def query(self) -> dict[str, str]:
        return {name: values[-1] for name, values in parse_qs(urlsplit(self.target).query).items()}

    def header(self, name: str) -> str | None:
        return self.request_headers.get(name.lower())

    def response_header(self, name: str) -> str | None:
        return self.response_headers.get(name.lower())

    def events(self) -> list[dict[str, Any]]:
        """The events of this request's body, decoded independently of the API's own decoder, for
        the shapes the official SDKs send: JSON, gzip, and `data=<base64>` forms (beacons)."""
        return _events_of(decode_body(self))


def decode_body(exchange: Exchange) -> Any:
    body = exchange.body
    if body.startswith(b"\x1f\x8b"):
        return json.loads(gzip.decompress(body))
    if body.startswith(b"data="):
        fields = parse_qs(body.decode("ascii"), keep_blank_values=True)
        data = fields["data"][0]
        if exchange.query.get("compression") in {"base64", "b64"} or data[:1] not in {"{", "["}:
            return json.loads(b64decode(data.replace(" ", "+") + "=" * (-len(data) % 4)))
        return json.loads(data)
    return json.loads(body)


def _events_of(payload: Any) -> list[dict[str, Any]]:
    if isinstance(payload, list):
        return payload
    if isinstance(payload, dict) and isinstance(payload.get("batch"), list):
        return list(payload["batch"])
    return [payload]


class _TapHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 30
    server: WireTap

    def _relay(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length > 0 else b""
        forwarded = {name: value for name, value in self.headers.items() if name.lower() not in _HOP_BY_HOP}
        upstream = http.client.HTTPConnection(
            self.server.upstream_host, self.server.upstream_port, timeout=30
        )
        try:
            upstream.request(self.command, self.path, body=body or None, headers=forwarded)
            response = upstream.getresponse()
            response_body = response.read()
            response_headers = response.getheaders()
        finally:
            upstream.close()
        self.server.record(
            Exchange(
                method=self.command,
                target=self.path,
                request_headers={name.lower(): value for name, value in self.headers.items()},
                body=body,
                status=response.status,
                response_headers={name.lower(): value for name, value in response_headers},
                response_body=response_body,
            )
        )
        try:
            self.send_response(response.status)
            for name, value in response_headers:
                if name.lower() not in _HOP_BY_HOP and name.lower() != "content-length":
                    self.send_header(name, value)
            if response.status not in {204, 304}:
                self.send_header("Content-Length", str(len(response_body)))
            self.end_headers()
            if response.status not in {204, 304}:
                self.wfile.write(response_body)
        except ConnectionError:
            # A beacon's page, or the whole browser, may be gone before the answer: the API has
            # answered and the exchange is recorded, which is what the tests look at.
            self.close_connection = True

    do_GET = do_POST = do_OPTIONS = do_PUT = do_DELETE = do_HEAD = do_PATCH = _relay

    def log_message(self, format: str, *args: Any) -> None:
        pass


class WireTap(ThreadingHTTPServer):
    """Relays every request to `upstream_url` and keeps each exchange, in order."""

    daemon_threads = True

    def __init__(self, upstream_url: str) -> None:
        upstream = urlsplit(upstream_url)
        self.upstream_host = upstream.hostname or "127.0.0.1"
        self.upstream_port = upstream.port or 80
        self._exchanges: list[Exchange] = []
        self._changed = threading.Condition()
        super().__init__(("127.0.0.1", 0), _TapHandler)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def record(self, exchange: Exchange) -> None:
        with self._changed:
            self._exchanges.append(exchange)
            self._changed.notify_all()

    @property
    def exchanges(self) -> list[Exchange]:
        with self._changed:
            return list(self._exchanges)

    def wait_for(self, done: Callable[[list[Exchange]], bool], timeout: float) -> list[Exchange]:
        """The exchanges once `done(exchanges)` holds; an AssertionError after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while not done(list(self._exchanges)):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(f"the wire tap did not see the expected requests in {timeout} s")
                self._changed.wait(remaining)
            return list(self._exchanges)

    def __enter__(self) -> WireTap:
        threading.Thread(
            target=self.serve_forever, kwargs={"poll_interval": 0.05}, name="wire-tap", daemon=True
        ).start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.shutdown()
        self.server_close()


def sent_events(exchanges: list[Exchange]) -> Iterator[tuple[Exchange, dict[str, Any]]]:
    """(exchange, event) for every event carried by a POST the tap relayed."""
    for exchange in exchanges:
        if exchange.method == "POST" and exchange.body:
            for event in exchange.events():
                yield exchange, event
