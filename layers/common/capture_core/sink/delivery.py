"""Where stored lines go (docs/protocol.md §7, §9): Firehose, and the direct path to S3 for what Firehose
cannot take. The sink only packs, sends and accounts; the lines come finished from the events stage.

A line larger than a Firehose record (a recording's full snapshot) goes to S3 at once; the others
are packed into records for Firehose, and the records Firehose refused or had not acknowledged
when its time was up go to S3 too, all in one object. A line is unstored only when both failed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from capture_core.errors import SinkUnavailable
from capture_core.limits import FIREHOSE_MAX_RECORD_BYTES
from capture_core.observability import logger, metrics
from capture_core.sink.direct import RESERVE_SECONDS, DirectPath
from capture_core.sink.firehose import FAILED, THROTTLED, FirehoseStream
from capture_core.sink.records import RecordPacker

OVERSIZE = "oversize"
# Each reason a line takes the direct path, and the metrics that count its lines and bytes.
_REASON_METRICS = {
    OVERSIZE: ("DirectPathOversizeEvents", "DirectPathOversizeBytes"),
    THROTTLED: ("DirectPathThrottledEvents", "DirectPathThrottledBytes"),
    FAILED: ("DirectPathFailedEvents", "DirectPathFailedBytes"),
}


class EventSink(Protocol):
    """Where the stored lines go."""

    def send(self, lines: list[bytes], deadline: float) -> list[int]:
        """Store `lines` by `deadline` (a monotonic time); the positions of those not stored
        (none: all stored). It may release the list's lines as it goes."""
        ...


def deliver(sink: EventSink, lines: list[bytes], deadline: float) -> None:
    """Store every line, or raise `SinkUnavailable` (503: the client sends the request again)."""
    if sink.send(lines, deadline):
        raise SinkUnavailable("The events could not be stored now; retry the request.")


@dataclass
class MemorySink:
    """An in-memory sink for tests and benchmarks."""

    lines: list[bytes] = field(default_factory=list)

    def send(self, lines: list[bytes], deadline: float) -> list[int]:
        self.lines.extend(lines)
        return []


class Delivery:
    """Firehose first, then the direct path; the time given to Firehose leaves the direct path
    enough for one write before the deadline."""

    def __init__(
        self,
        firehose: FirehoseStream,
        direct: DirectPath,
        *,
        max_record_bytes: int = FIREHOSE_MAX_RECORD_BYTES,
    ) -> None:
        self._firehose = firehose
        self._direct = direct
        self._max_record_bytes = max_record_bytes

    def send(self, lines: list[bytes], deadline: float) -> list[int]:
        packer = RecordPacker(self._max_record_bytes)
        oversize: list[int] = []
        oversize_lines: list[bytes] = []
        for position, line in enumerate(lines):
            if len(line) > self._max_record_bytes:
                oversize.append(position)
                oversize_lines.append(line)
            else:
                packer.add(line, position)
            # Each line is released once packed: a request's stored form is never held twice.
            lines[position] = b""
        records, tags = packer.records(), packer.tags
        unacknowledged = self._firehose.send(records, self._firehose_deadline(deadline)) if records else {}
        if not oversize and not unacknowledged:
            return []
        counts = _counts(oversize_lines, records, unacknowledged, tags)
        unstored = sorted([*oversize, *(p for i in unacknowledged for p in tags[i])])
        # What Firehose took is let go: only what S3 must take stays.
        chunks, records = oversize_lines + [records[i] for i in sorted(unacknowledged)], []
        if not self._direct.write(chunks, deadline):
            logger.error("Neither Firehose nor S3 took the events", extra={"events": len(unstored)})
            return unstored
        for reason, (events, size) in counts.items():
            count_metric, bytes_metric = _REASON_METRICS[reason]
            metrics.add_metric(name=count_metric, unit="Count", value=events)
            metrics.add_metric(name=bytes_metric, unit="Bytes", value=size)
        if unacknowledged:
            logger.warning("Events took the direct path to S3", extra={"events": len(unstored)})
        return []

    def _firehose_deadline(self, deadline: float) -> float:
        """Firehose's time: the request's, less one write to S3, unless that would leave Firehose
        no call at all (near the end of the Lambda's time, Firehose, the usual way, goes first)."""
        kept_back = deadline - RESERVE_SECONDS
        return kept_back if self._firehose.can_call_by(kept_back) else deadline


def _counts(
    oversize: Sequence[bytes],
    records: Sequence[bytes],
    unacknowledged: dict[int, str],
    tags: Sequence[Sequence[object]],
) -> dict[str, tuple[int, int]]:
    """Lines and bytes per reason for taking the direct path."""
    counts = {OVERSIZE: (len(oversize), sum(map(len, oversize)))} if oversize else {}
    for position, reason in unacknowledged.items():
        events, size = counts.get(reason, (0, 0))
        counts[reason] = (events + len(tags[position]), size + len(records[position]))
    return counts
