"""From events to stored lines (docs/protocol.md §6, §8): each event normalised and written as one
NDJSON line, under the size rule every lane shares.

An analytics event is at most `max_event_bytes` stored (1,000 KiB: it fits one Firehose record,
and PostHog refuses events over about 1 MB too). A recording's `$snapshot` has no limit of its
own: posthog-js sizes its snapshots in UTF-16 code units and never splits a full snapshot, and
refusing one loses the replay, so whatever the request carries is stored (the sink sends a line
over a Firehose record to S3). A request's lines together are at most `max_total_bytes`: tiny
events inflate, since every line carries the server's fields.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from capture_core import json_codec
from capture_core.errors import EventTooLarge, InvalidPayload, RequestTooLarge
from capture_core.events.batch import Batch
from capture_core.events.cookieless import Cookieless, is_cookieless, timestamp_ms_of
from capture_core.events.stored import Arrival, normalise_event
from capture_core.observability import metrics


@dataclass(frozen=True, slots=True)
class SizeRule:
    """How large stored lines may be: each (None: no limit of its own), and a request's together."""

    max_event_bytes: int | None
    max_total_bytes: int


@dataclass(frozen=True, slots=True)
class DropRules:
    """A project's drop rules: events of these distinct ids, and events of these names, are not
    stored (the request is answered as if they were), each counted in a metric of its `lane`."""

    distinct_ids: frozenset[str]
    event_names: frozenset[str]
    lane: str  # the metrics' prefix: "Events", "RecordingEvents"

    @classmethod
    def of(cls, distinct_ids: Iterable[str], event_names: Iterable[str], lane: str) -> DropRules | None:
        rules = cls(frozenset(distinct_ids), frozenset(event_names), lane)
        return rules if rules.distinct_ids or rules.event_names else None

    def drops(self, stored: Mapping[str, Any]) -> bool:
        """Is this stored event one the rules name? (Counted when it is.)"""
        for rule, names, value in (
            ("DistinctId", self.distinct_ids, stored["distinct_id"]),
            ("EventName", self.event_names, stored["event"]),
        ):
            if value in names:
                metrics.add_metric(name=f"{self.lane}DroppedBy{rule}Rule", unit="Count", value=1)
                return True
        return False


class StoredLines:
    """A request's stored lines, held to its size rule as they are added."""

    def __init__(self, rule: SizeRule, count: int, arrival: Arrival) -> None:
        # No line is shorter than a minimal event's, so a request of too many events is refused
        # before any of them costs work.
        if (
            count * len(json_codec.dumps_line(normalise_event(_SMALLEST_EVENT, arrival)))
            > rule.max_total_bytes
        ):
            raise RequestTooLarge(
                f"The {count} events of this request would take more than {rule.max_total_bytes} bytes "
                "stored: send fewer events per request."
            )
        self.rule = rule
        self.lines: list[bytes] = []
        self._total = 0

    def too_large(self, line: bytes) -> bool:
        """Is this one line over the limit of one event?"""
        return self.rule.max_event_bytes is not None and len(line) > self.rule.max_event_bytes

    def add(self, line: bytes) -> None:
        self._total += len(line)
        if self._total > self.rule.max_total_bytes:
            raise RequestTooLarge(
                f"The events of this request would take more than {self.rule.max_total_bytes} bytes "
                "stored: send fewer events per request."
            )
        # orjson's bytes keep its writer's whole buffer (4 KB and more for a line of a few hundred
        # bytes): held until every line of the request exists, 140,000 small lines would take a
        # gigabyte. A copy takes its own size.
        self.lines.append(bytes(memoryview(line)))

    def event_too_large(self, line: bytes, attr: str | None) -> EventTooLarge:
        return EventTooLarge(
            f"This event is {len(line):,} bytes once stored; one event may be at most "
            f"{self.rule.max_event_bytes:,} bytes.",
            attr=attr,
        )


def stored_lines(
    batch: Batch,
    arrival: Arrival,
    rule: SizeRule,
    cookieless: Cookieless | None = None,
    drops: DropRules | None = None,
) -> list[bytes]:
    """Every event of the batch as its stored line, or the error of the first that cannot be.
    Events the project's `drops` name are left out. With `cookieless`, events in cookieless mode
    get the visitor's ids; those that cannot have them are dropped (counted), as PostHog drops
    them.

    All of it happens before anything is sent, so an invalid or oversized event fails the request
    without storing any part of it.
    """
    events = batch.events
    lines = StoredLines(rule, len(events), arrival)
    for index, event in enumerate(events):
        try:
            stored = normalise_event(event, arrival)
            dropped = (drops is not None and drops.drops(stored)) or cookieless_ids(
                stored, arrival, cookieless
            )
        except InvalidPayload as error:
            error.attr = batch.attr(index, error.attr or "")
            raise
        events[index] = _DONE
        if dropped:
            continue
        line = json_codec.dumps_line(stored)
        if lines.too_large(line):
            raise lines.event_too_large(line, batch.attr(index, "").rstrip(".") or None)
        lines.add(line)
        # The parsed event went as soon as its stored form existed: a 20 MiB batch then never
        # holds its parsed form and its stored form at once.
    return lines.lines


def cookieless_ids(stored: dict[str, Any], arrival: Arrival, cookieless: Cookieless | None) -> str | None:
    """Give a stored event in cookieless mode its visitor's ids; why it cannot be stored, or None."""
    if cookieless is None or not is_cookieless(stored["properties"]):
        return None
    dropped = cookieless.apply(stored, arrival.client_ip, timestamp_ms_of(stored["timestamp"]))
    if dropped:
        metrics.add_metric(name="CookielessEventsDropped", unit="Count", value=1)
    return dropped


_DONE: dict[str, Any] = {}
_SMALLEST_EVENT = {"event": "e", "distinct_id": "u", "uuid": "00000000-0000-0000-0000-000000000000"}
