"""Stored events as Firehose records (SPEC §8, §9): each event validated and written as one NDJSON
line, lines packed into records, records grouped into PutRecordBatch calls.

Firehose's limits are in `capture_core.limits`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from capture_core import json_codec
from capture_core.errors import EventTooLarge, InvalidPayload, RequestTooLarge
from capture_core.events.batch import Batch
from capture_core.events.stored import Arrival, normalise_event
from capture_core.limits import (
    FIREHOSE_BILLING_UNIT_BYTES,
    FIREHOSE_MAX_BYTES_PER_CALL,
    FIREHOSE_MAX_RECORD_BYTES,
    FIREHOSE_MAX_RECORDS_PER_CALL,
)


class RecordPacker:
    """Joins newline-terminated lines into as few records as fit; a line is never split.

    Firehose bills every record rounded up to 5 KB, so one record per event would bill a 1 KB
    event as 5 KB. Lines are joined as they come, so a request's lines are never all held twice.
    The caller has already rejected lines longer than a record.
    """

    def __init__(self, max_record_bytes: int = FIREHOSE_MAX_RECORD_BYTES) -> None:
        self._max = max_record_bytes
        self._records: list[bytes] = []
        self._parts: list[bytes] = []
        self._size = 0
        # What each record holds, for callers that answer per event (capture v1).
        self.tags: list[list[Any]] = []
        self._tags: list[Any] = []

    def add(self, line: bytes, tag: Any = None) -> None:
        if self._size + len(line) > self._max and self._parts:
            self._seal()
        self._parts.append(line)
        self._tags.append(tag)
        self._size += len(line)

    def records(self) -> list[bytes]:
        if self._parts:
            self._seal()
        return self._records

    def _seal(self) -> None:
        self._records.append(b"".join(self._parts))
        self.tags.append(self._tags)
        self._parts, self._tags, self._size = [], [], 0


def plan_calls(records: Sequence[bytes]) -> Iterator[list[int]]:
    """Group records into PutRecordBatch calls of at most 500 records and 4 MiB (as positions)."""
    call: list[int] = []
    size = 0
    for position, record in enumerate(records):
        if call and (
            len(call) == FIREHOSE_MAX_RECORDS_PER_CALL or size + len(record) > FIREHOSE_MAX_BYTES_PER_CALL
        ):
            yield call
            call, size = [], 0
        call.append(position)
        size += len(record)
    if call:
        yield call


def billed_bytes(records: Iterable[bytes]) -> int:
    """What Firehose ingestion bills for these records: each rounded up to 5 KB."""
    return sum(
        -(-len(record) // FIREHOSE_BILLING_UNIT_BYTES) * FIREHOSE_BILLING_UNIT_BYTES for record in records
    )


def build_records(
    batch: Batch, arrival: Arrival, max_record_bytes: int, max_stored_bytes: int
) -> list[bytes]:
    """Every event of the batch, validated, stored as a line and packed into records.

    All of it happens before anything is sent, so an invalid or oversized event fails the request
    without storing any part of it.
    """
    events = batch.events
    # Every stored line carries the server's fields: no line is shorter than a minimal event's,
    # so a request of too many events is refused before any of them costs work.
    if len(events) * len(json_codec.dumps_line(normalise_event(_SMALLEST_EVENT, arrival))) > max_stored_bytes:
        raise RequestTooLarge(
            f"The {len(events)} events of this request would take more than {max_stored_bytes} bytes "
            "stored: send fewer events per request."
        )
    packer = RecordPacker(max_record_bytes)
    total = 0
    for index, event in enumerate(events):
        try:
            line = json_codec.dumps_line(normalise_event(event, arrival))
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
