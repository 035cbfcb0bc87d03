"""Counting what was stored, off the request path: each object Firehose or the direct path delivers
to the events bucket is read once, its lines counted per project, and each project's month updated;
a project that reaches 80 % or 100 % of a quota gets a notice, and at 100 % its lane is marked over
quota on its items, which every request reads with its key.

Analytics events count one per stored line; recordings count one per session (`$session_id`) the
month it is first stored. What a request sends is never counted before it is stored: a quota
counts what the bucket holds. Enforcement lags the crossing by the stream's buffering (up to 60 s),
the notification and this function (seconds), and the key cache of warm containers (60 s).
"""

from __future__ import annotations

import gzip
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import IO, Any
from urllib.parse import unquote_plus

import orjson

from capture_core.auth.quotas import EVENTS, LANES, RECORDINGS, month_of
from capture_core.observability import logger, metrics
from capture_core.usage.ledger import Counts, Ledger, Usage

# The shares of a quota at which its project gets a notice.
NOTICE_PERCENTS = (80, 100)
# Lines are read in pieces of this size: a line is never held twice, however long.
_CHUNK_BYTES = 1 << 20


@dataclass(frozen=True, slots=True)
class Notice:
    project_id: int
    lane: str
    month: str
    percent: int
    counted: int
    limit: int

    @property
    def subject(self) -> str:
        return f"Project {self.project_id} has used {self.percent}% of its {self.lane} quota for {self.month}"

    @property
    def message(self) -> str:
        unit = "sessions recorded" if self.lane == RECORDINGS else "events"
        after = (
            "Further events of this lane are answered as stored and not stored until the month ends "
            "or the quota is raised (capture-keys quota)."
            if self.percent >= 100
            else "At 100% the lane stops storing until the month ends or the quota is raised."
        )
        return f"{self.subject}: {self.counted:,} {unit} of {self.limit:,} (UTC month {self.month}). {after}"


def lines_of(stream: IO[bytes]) -> Iterator[bytes]:
    """The lines of a gzip'd (or plain) NDJSON object, read in pieces: a line is held once, however
    long, and the object never whole."""
    head = stream.read(2)
    body: Any = _Prefixed(head, stream)
    if head == b"\x1f\x8b":
        body = gzip.GzipFile(fileobj=body)
    pending: list[bytes] = []
    while piece := body.read(_CHUNK_BYTES):
        start = 0
        while (end := piece.find(b"\n", start)) >= 0:
            pending.append(piece[start:end])
            line, pending = b"".join(pending), []
            if line.strip():
                yield line
            start = end + 1
        pending.append(piece[start:])
    if (line := b"".join(pending)).strip():
        yield line


class _Prefixed:
    """A stream with bytes already read put back in front."""

    def __init__(self, head: bytes, stream: IO[bytes]) -> None:
        self._head, self._stream = head, stream

    def read(self, size: int = -1) -> bytes:
        head, self._head = self._head, b""
        if size < 0:
            return head + self._stream.read()
        return head + self._stream.read(max(0, size - len(head))) if size > len(head) else head


def count_lines(lines: Iterable[bytes], lane: str) -> tuple[dict[int, Counts], int]:
    """Each project's counts in stored lines of `lane`, and how many lines could not be read (a
    line this API did not write: counted nowhere, logged)."""
    counts: dict[int, Counts] = {}
    unreadable = 0
    for line in lines:
        try:
            stored = orjson.loads(line)
            project_id = stored["project_id"]
            if not isinstance(project_id, int) or isinstance(project_id, bool):
                raise TypeError(project_id)
            session = stored["properties"].get("$session_id") if lane == RECORDINGS else None
        except (orjson.JSONDecodeError, KeyError, TypeError, AttributeError):
            unreadable += 1
            continue
        project = counts.setdefault(project_id, Counts())
        if lane == RECORDINGS:
            if isinstance(session, str) and session:
                project.sessions.add(session)
        else:
            project.events += 1
    return counts, unreadable


class UsageCounter:
    """Counts delivered objects into the ledger, and acts on the quotas they cross."""

    def __init__(
        self,
        ledger: Ledger,
        s3: Any,
        lanes_by_prefix: dict[str, str],
        notify: Callable[[Notice], None],
    ) -> None:
        self._ledger = ledger
        self._s3 = s3
        self._lanes_by_prefix = lanes_by_prefix
        self._notify = notify

    def lane_of(self, key: str) -> str | None:
        """The lane an object's key belongs to, by its stream's prefix (None: not a stored stream's)."""
        for prefix, lane in self._lanes_by_prefix.items():
            if key.startswith(prefix):
                return lane
        return None

    def count_object(self, bucket: str, key: str, when: datetime) -> dict[str, Any]:
        """Count one delivered object (created at `when`) into its month; returns what it did."""
        lane = self.lane_of(key)
        if lane is None:
            return {"lane": None}
        month = month_of(when)
        try:
            body = self._s3.get_object(Bucket=bucket, Key=key)["Body"]
            counts, unreadable = count_lines(lines_of(body), lane)
        except (OSError, EOFError, zlib.error) as error:
            # A damaged object cannot be counted; retrying would fail the same way.
            logger.error(
                "A delivered object could not be read to count it", extra={"error": type(error).__name__}
            )
            metrics.add_metric(name="UsageObjectsUnreadable", unit="Count", value=1)
            return {"lane": lane, "unreadable": True}
        if unreadable:
            logger.warning("Lines of a delivered object could not be read", extra={"lines": unreadable})
        object_id = f"{bucket}/{key}"
        added = {
            project_id: {
                EVENTS: found.events,
                RECORDINGS: self._ledger.new_sessions(project_id, month, sorted(found.sessions), object_id)
                if found.sessions
                else 0,
            }
            for project_id, found in counts.items()
        }
        if not self._ledger.add(object_id, month, added):
            return {"lane": lane, "already_counted": True}
        metrics.add_metric(name="UsageObjectsCounted", unit="Count", value=1)
        notices = self.enforce(added, month)
        return {
            "lane": lane,
            "counted": {project_id: counted[lane] for project_id, counted in added.items()},
            "notices": [notice.subject for notice in notices],
        }

    def enforce(self, projects: Iterable[int], month: str) -> list[Notice]:
        """For each project: send the notices its usage has reached and not yet had, and mark each
        lane at or over its limit as over quota for `month`."""
        notices = []
        for usage in self._ledger.usage(projects, month).values():
            for lane in LANES:
                notices += self._act(usage, lane)
        return notices

    def _act(self, usage: Usage, lane: str) -> list[Notice]:
        share, limit = usage.share(lane), usage.limits.get(lane)
        if share is None or limit is None:
            return []
        if usage.is_over(lane) and usage.over.get(lane) != usage.month:
            self._ledger.set_state(usage.project_id, lane, usage.month)
            logger.info("A project is over quota", extra={"project_id": usage.project_id, "lane": lane})
        sent = []
        for percent in NOTICE_PERCENTS:
            name = f"{lane}:{percent}"
            if share * 100 < percent or name in usage.notified:
                continue
            if not self._ledger.first_notice(usage.project_id, usage.month, name):
                continue
            notice = Notice(usage.project_id, lane, usage.month, percent, usage.counted[lane], limit)
            self._notify(notice)
            metrics.add_metric(name="QuotaNotices", unit="Count", value=1)
            sent.append(notice)
        return sent


@dataclass(frozen=True, slots=True)
class CreatedObject:
    bucket: str
    key: str
    when: datetime


def created_object(event: Mapping[str, Any]) -> CreatedObject | None:
    """The object an EventBridge "Object Created" event from S3 names; None for any other event."""
    detail = event.get("detail")
    if event.get("detail-type") != "Object Created" or not isinstance(detail, Mapping):
        return None
    bucket, key = detail.get("bucket", {}).get("name"), detail.get("object", {}).get("key")
    try:
        when = datetime.fromisoformat(str(event.get("time")).replace("Z", "+00:00"))
    except ValueError:
        when = datetime.now(UTC)
    if not (isinstance(bucket, str) and isinstance(key, str)):
        return None
    # S3's notifications encode keys as a form does; the stored streams' keys never hold a % or a +.
    return CreatedObject(bucket, unquote_plus(key) if "%" in key or "+" in key else key, when.astimezone(UTC))


def static_prefix(prefix: str) -> str:
    """The part of a Firehose prefix before its first `!{...}`, up to its last `/`: where all of a
    stream's objects are, by day or not."""
    fixed = prefix.split("!{", 1)[0]
    return fixed[: fixed.rfind("/") + 1]


def sns_notifier(client: Any, topic_arn: str) -> Callable[[Notice], None]:
    """Notices published to the stack's alarm topic (none without one)."""

    def notify(notice: Notice) -> None:
        if topic_arn:
            client.publish(TopicArn=topic_arn, Subject=notice.subject[:100], Message=notice.message)

    return notify
