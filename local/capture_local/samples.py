"""`make sample NAME=capture_json`: an `events/` sample (an API Gateway proxy event, as `sam local
invoke -e` takes) sent to the running local stack as the HTTP request it stands for: its method,
path, query, headers and body, so it passes the local API Gateway as a client's would."""

from __future__ import annotations

import base64
import http.client
import json
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

from capture_local.names import REPOSITORY_ROOT

SAMPLES = REPOSITORY_ROOT / "events"
# Headers the HTTP client sets itself, or that only API Gateway adds.
_NOT_SENT = {"host", "content-length", "x-forwarded-for", "x-forwarded-proto", "x-forwarded-port"}


def sample_path(name: str) -> Path:
    path = SAMPLES / f"{name.removesuffix('.json')}.json"
    if not path.is_file() or path.parent != SAMPLES:
        names = ", ".join(sorted(item.stem for item in SAMPLES.glob("*.json")))
        raise ValueError(f"no sample {name!r} in events/: one of {names}")
    return path


def request_of(event: dict[str, Any]) -> tuple[str, str, list[tuple[str, str]], bytes]:
    """The HTTP request a proxy event stands for: method, target (path and query), headers, body."""
    query = event.get("multiValueQueryStringParameters") or {
        name: [value] for name, value in (event.get("queryStringParameters") or {}).items()
    }
    target = event["path"] + (f"?{urlencode(query, doseq=True)}" if query else "")
    multi = event.get("multiValueHeaders") or {
        name: [value] for name, value in (event.get("headers") or {}).items()
    }
    headers = [
        (name, value) for name, values in multi.items() for value in values if name.lower() not in _NOT_SENT
    ]
    body = event.get("body") or ""
    data = base64.b64decode(body) if event.get("isBase64Encoded") else body.encode()
    return event["httpMethod"], target, headers, data


def send(api_url: str, name: str) -> tuple[int, str]:
    """Send sample `name` to the API at `api_url`; its status and body."""
    method, target, headers, body = request_of(json.loads(sample_path(name).read_text(encoding="utf-8")))
    address = urlsplit(api_url)
    connection = http.client.HTTPConnection(address.hostname or "127.0.0.1", address.port, timeout=30)
    try:
        connection.putrequest(method, target, skip_accept_encoding=True)
        for header, value in headers:
            connection.putheader(header, value)
        connection.putheader("Content-Length", str(len(body)))
        connection.endheaders(body)
        answer = connection.getresponse()
        return answer.status, answer.read().decode("utf-8", "replace")
    finally:
        connection.close()
