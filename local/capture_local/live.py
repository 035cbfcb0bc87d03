"""The local stack's live events page: what the streams stored, newest first, as it arrives.

`make dev` serves it at `/_local/events`, on the API's own port. No route of the API starts with
`/_local/` (on AWS such a path reaches the capture function, which answers 404), and the page is
the local gateway's own: it never ships in the template. It is one HTML document with its style
and script inline (nothing fetched from elsewhere, so it works offline), which asks
`/_local/api/stored` every second for the newest lines and `/_local/api/line` for one line whole.
"""

from __future__ import annotations

import gzip
import json
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from capture_local.exchanges import Request, Response

PREFIX = "/_local"
PAGE_PATH = f"{PREFIX}/events"
# The most lines one answer lists: the newest, after the filters.
MAX_LISTED = 200
_JSON = [("Content-Type", "application/json"), ("Cache-Control", "no-store")]


@dataclass(frozen=True)
class Stored:
    """One stored line, as the page lists it."""

    id: str  # "<object key>#<line number>"
    kind: str  # "event" or "recording"
    project_id: Any
    event: Any
    distinct_id: Any
    uuid: Any
    timestamp: Any
    received: Any
    session_id: Any
    bytes: int

    def matches(self, project: str, event: str, distinct_id: str) -> bool:
        return (
            (not project or str(self.project_id) == project)
            and (not event or event in str(self.event))
            and (not distinct_id or distinct_id in str(self.distinct_id))
        )


class StoredLines:
    """The lines of the streams' objects in the order they were stored: those already in the
    bucket (kept from an earlier run) when it starts, then each as moto stores it."""

    def __init__(self, s3: Any, bucket: str, prefixes: dict[str, str]) -> None:
        self._bucket, self._prefixes = bucket, prefixes  # prefix -> kind
        self._objects: dict[str, list[bytes]] = {}
        self._order: list[str] = []
        self._lock = threading.Lock()
        found = []
        for prefix in prefixes:
            pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
            found += [
                (entry["LastModified"], entry["Key"]) for page in pages for entry in page.get("Contents", [])
            ]
        for _, key in sorted(found):
            self.add(bucket, key, s3.get_object(Bucket=bucket, Key=key)["Body"].read())

    def add(self, bucket: str, key: str, body: bytes) -> None:
        """A stored object (a `notifications` listener)."""
        if bucket != self._bucket or not key.startswith(tuple(self._prefixes)):
            return
        try:
            text = gzip.decompress(body) if body[:2] == b"\x1f\x8b" else body
        except (OSError, EOFError):
            return
        with self._lock:
            if key not in self._objects:
                self._order.append(key)
            self._objects[key] = [line for line in text.split(b"\n") if line.strip()]

    def newest(self, project: str = "", event: str = "", distinct_id: str = "") -> tuple[list[Stored], int]:
        """The newest lines that match, at most MAX_LISTED, and how many lines there are in all."""
        listed: list[Stored] = []
        with self._lock:
            order = list(self._order)
            total = sum(len(lines) for lines in self._objects.values())
        for key in reversed(order):
            lines = self._objects[key]
            for number in range(len(lines) - 1, -1, -1):
                stored = self._summary(key, number, lines[number])
                if stored.matches(project, event, distinct_id):
                    listed.append(stored)
                    if len(listed) == MAX_LISTED:
                        return listed, total
        return listed, total

    def line(self, line_id: str) -> bytes | None:
        key, _, number = line_id.rpartition("#")
        lines = self._objects.get(key)
        if lines is None or not number.isdigit() or int(number) >= len(lines):
            return None
        return lines[int(number)]

    def _summary(self, key: str, number: int, line: bytes) -> Stored:
        kind = next((kind for prefix, kind in self._prefixes.items() if key.startswith(prefix)), "event")
        try:
            stored = json.loads(line)
        except ValueError:
            stored = {}
        properties = stored.get("properties") if isinstance(stored.get("properties"), dict) else {}
        return Stored(
            id=f"{key}#{number}",
            kind=kind,
            project_id=stored.get("project_id"),
            event=stored.get("event"),
            distinct_id=stored.get("distinct_id"),
            uuid=stored.get("uuid"),
            timestamp=stored.get("timestamp"),
            received=stored.get("now"),
            session_id=properties.get("$session_id"),
            bytes=len(line),
        )


class LivePage:
    """Answers `/_local/…`: the page, the list, one line, the saved queries."""

    def __init__(self, lines: StoredLines, saved_queries: list[tuple[str, str, str]]) -> None:
        self._lines = lines
        self._queries = saved_queries  # (name, description, SQL)

    def handle(self, request: Request) -> Response | None:
        """The answer to a request under `/_local/`; None for any other path."""
        target = urlsplit(request.target)
        path = target.path.rstrip("/")
        if path != PREFIX and not path.startswith(f"{PREFIX}/"):
            return None
        if request.method not in {"GET", "HEAD"}:
            return Response(405, [("Allow", "GET, HEAD"), *_JSON], b'{"error": "GET only"}')
        query = {name: values[-1] for name, values in parse_qs(target.query).items()}
        if path in {PREFIX, PAGE_PATH}:
            return Response(
                200, [("Content-Type", "text/html; charset=utf-8"), ("Cache-Control", "no-store")], PAGE
            )
        if path == f"{PREFIX}/api/stored":
            listed, total = self._lines.newest(
                query.get("project", ""), query.get("event", ""), query.get("distinct_id", "")
            )
            body = {"total": total, "listed": [stored.__dict__ for stored in listed]}
            return Response(200, _JSON, json.dumps(body, default=str).encode())
        if path == f"{PREFIX}/api/line":
            line = self._lines.line(query.get("id", ""))
            if line is None:
                return Response(404, _JSON, b'{"error": "no such line"}')
            return Response(200, _JSON, line)
        if path == f"{PREFIX}/api/queries":
            queries = [{"name": n, "description": d, "sql": q} for n, d, q in self._queries]
            return Response(200, _JSON, json.dumps(queries).encode())
        return Response(404, _JSON, b'{"error": "no such page"}')


# The page itself: HTML with its style and script inline, beside this module.
PAGE = (Path(__file__).parent / "live.html").read_bytes()
