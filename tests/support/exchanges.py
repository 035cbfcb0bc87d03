"""Reading the exchanges the local stack recorded (`LocalStack.recording()`) as the SDK tests need:
headers, path and query, and the events a request carried, decoded independently of the API's own
decoder, for the shapes the official SDKs send (JSON, gzip, and `data=<base64>` forms, beacons)."""

from __future__ import annotations

import gzip
import json
from base64 import b64decode
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

from capture_core.api.routes import BATCH_PATHS, CAPTURE_PATHS, V1_PATH
from capture_local import Exchange
from capture_local.exchanges import header as last_value

EVENT_PATHS = frozenset((*CAPTURE_PATHS, *BATCH_PATHS, V1_PATH))


def header(exchange: Exchange, name: str) -> str | None:
    """The request's header `name` (its last value, whatever its case), None without one."""
    return last_value(exchange.request_headers, name)


def response_header(exchange: Exchange, name: str) -> str | None:
    return last_value(exchange.response_headers, name)


def path(exchange: Exchange) -> str:
    return urlsplit(exchange.target).path


def query(exchange: Exchange) -> dict[str, str]:
    return {name: values[-1] for name, values in parse_qs(urlsplit(exchange.target).query).items()}


def decode_body(exchange: Exchange) -> Any:
    body = exchange.body
    if body.startswith(b"\x1f\x8b"):
        return json.loads(gzip.decompress(body))
    if body.startswith(b"data="):
        data = parse_qs(body.decode("ascii"), keep_blank_values=True)["data"][0]
        if query(exchange).get("compression") in {"base64", "b64"} or data[:1] not in {"{", "["}:
            return json.loads(b64decode(data.replace(" ", "+") + "=" * (-len(data) % 4)))
        return json.loads(data)
    return json.loads(body)


def events(exchange: Exchange) -> list[dict[str, Any]]:
    """The events of the request's body: a list, an envelope's batch, or one event."""
    payload = decode_body(exchange)
    if isinstance(payload, list):
        return payload
    if isinstance(payload, dict) and isinstance(payload.get("batch"), list):
        return list(payload["batch"])
    return [payload]


def sent_events(exchanges: list[Exchange]) -> Iterator[tuple[Exchange, dict[str, Any]]]:
    """(exchange, event) for every event carried by a POST to an event route (not /flags, /decide
    or /s: a flags request's body is not an event, and a recording's snapshots are read apart)."""
    for exchange in exchanges:
        if exchange.method == "POST" and exchange.body and path(exchange).rstrip("/") in EVENT_PATHS:
            for event in events(exchange):
                yield exchange, event
