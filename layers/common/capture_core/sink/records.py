"""Stored lines as Firehose records (docs/protocol.md §9): lines packed whole into records, records grouped
into PutRecordBatch calls, and what Firehose bills for them. Pure functions of bytes.

Firehose's limits are in `capture_core.limits`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any

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
    A line longer than a record is the caller's to send elsewhere (the direct path).
    """

    def __init__(self, max_record_bytes: int = FIREHOSE_MAX_RECORD_BYTES) -> None:
        self._max = max_record_bytes
        self._records: list[bytes] = []
        self._parts: list[bytes] = []
        self._size = 0
        # What each record holds (the caller's tag of each line), to map records back to lines.
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
