"""The capture pipeline: decode, read the batch, authenticate, normalise, pack, deliver.

Both functions run this same pipeline; they differ only in sizing (template.yaml).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from capture_core import json_codec
from capture_core.auth import request_project_id, request_token
from capture_core.decoding import decode_payload
from capture_core.errors import EventTooLarge, InvalidPayload, RequestTooLarge
from capture_core.events import Batch, Origin, normalise_event, read_batch
from capture_core.keys import KeyStore
from capture_core.observability import metrics
from capture_core.settings import Settings
from capture_core.sink import EventSink, RecordPacker


@dataclass(frozen=True, slots=True)
class HttpRequest:
    """A request as the pipeline sees it, whatever transport brought it."""

    method: str
    path: str
    query: Mapping[str, str]
    headers: Mapping[str, str]  # keyed by lower-case names
    body: bytes
    source_ip: str | None = None

    @property
    def client_ip(self) -> str | None:
        # The left-most X-Forwarded-For entry is the client as the first proxy saw it; it is the
        # client's own word, so only an IP address is taken (a long string would be copied into
        # every stored event).
        forwarded = self.headers.get("x-forwarded-for", "").split(",", 1)[0].strip()
        if forwarded and len(forwarded) <= 45:
            try:
                return str(ipaddress.ip_address(forwarded))
            except ValueError:
                pass
        return self.source_ip


def utc_now() -> datetime:
    return datetime.now(UTC)


class CapturePipeline:
    def __init__(
        self,
        settings: Settings,
        keys: KeyStore,
        sink: EventSink,
        *,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self._settings = settings
        self._keys = keys
        self._sink = sink
        self._clock = clock

    def capture(self, request: HttpRequest, deadline: float) -> int:
        """Store every event of `request`, or raise; returns how many events were stored."""
        now = self._clock()
        decoded = decode_payload(
            request.query,
            request.headers,
            request.body,
            max_payload_bytes=self._settings.max_payload_bytes,
            parse_budget_bytes=self._settings.parse_budget_bytes,
        )
        batch = read_batch(decoded.data, request.path, request.query.get("_"))
        token = request_token(batch, decoded.form, request.query, request.headers)
        project = self._keys.project_for(token, request_project_id(batch, request.query))
        origin = Origin(
            now=now,
            ip=None if project.anonymize_ips else request.client_ip,
            project_id=project.project_id,
            token=project.token,
            sent_at=batch.sent_at,
            historical_migration=batch.historical_migration,
        )
        records = build_records(
            batch, origin, self._settings.max_record_bytes, self._settings.max_stored_bytes
        )
        self._sink.deliver(records, deadline)
        metrics.add_metric(name="EventsAccepted", unit="Count", value=len(batch.events))
        return len(batch.events)


def build_records(
    batch: Batch, origin: Origin, max_record_bytes: int, max_stored_bytes: int = 48 * 1024 * 1024
) -> list[bytes]:
    """Every event of the batch, validated, stored as a line and packed into records.

    All of it happens before anything is sent, so an invalid or oversized event fails the request
    without storing any part of it.
    """
    events = batch.events
    # Every stored line carries the server's fields: no line is shorter than a minimal event's,
    # so a request of too many events is refused before any of them costs work.
    if len(events) * len(json_codec.dumps_line(normalise_event(_SMALLEST_EVENT, origin))) > max_stored_bytes:
        raise RequestTooLarge(
            f"The {len(events)} events of this request would take more than {max_stored_bytes} bytes "
            "stored: send fewer events per request."
        )
    packer = RecordPacker(max_record_bytes)
    total = 0
    for index, event in enumerate(events):
        try:
            line = json_codec.dumps_line(normalise_event(event, origin))
        except InvalidPayload as error:
            error.attr = batch.attr(index, error.attr or "")
            raise
        total += len(line)
        if total > max_stored_bytes:
            # Many tiny events inflate: each stored line carries the server's fields too.
            raise RequestTooLarge(
                f"The events of this request would take more than {max_stored_bytes} bytes stored."
            )
        if len(line) > max_record_bytes:
            raise EventTooLarge(
                f"This event is {len(line)} bytes once stored; one event may be at most "
                f"{max_record_bytes} bytes.",
                attr=batch.attr(index, "").rstrip(".") or None,
            )
        packer.add(line)
        # Let the parsed event go as soon as its line exists: a 20 MiB batch then never holds its
        # parsed form and its stored form at once.
        events[index] = _DONE
    return packer.records()


_DONE: dict[str, Any] = {}
_SMALLEST_EVENT = {"event": "e", "distinct_id": "u", "uuid": "00000000-0000-0000-0000-000000000000"}
