"""The direct path (docs/protocol.md §9): what Firehose cannot take, written by the function itself to S3.

One gzip'd NDJSON object per request, in the bucket Firehose delivers to, under the stream's own
prefix evaluated at the time of writing (Firehose evaluates it at its arrival time: the same hour
partition), so Athena's tables and `make query` read it as they read Firehose's objects. Its name
starts with `direct-`, which Firehose's never do, so an operator can tell the two apart. S3 bills
each `PutObject` (about $5 per million): this path is for what Firehose cannot take, never the
usual way in.
"""

from __future__ import annotations

import re
import uuid
import zlib
from collections.abc import Callable, Sequence
from datetime import UTC, datetime

from botocore.exceptions import BotoCoreError, ClientError

from capture_core.aws_errors import error_code
from capture_core.observability import logger, metrics
from capture_core.sink.timing import Pacing

# (connect, read) timeouts of a PutObject, longest first. The read timeout bounds each socket
# operation, not the whole upload, so a large object needs no longer one.
CALL_TIMEOUTS = ((1.0, 2.0), (0.5, 1.5), (0.25, 0.75))
# What a request keeps back for this path from what it gives Firehose: one PutObject through the
# shortest client.
RESERVE_SECONDS = sum(CALL_TIMEOUTS[-1])
# S3's answers that a retry may heal (503 SlowDown is its throttling).
RETRYABLE_ERROR_CODES = frozenset(
    {"SlowDown", "ServiceUnavailable", "InternalError", "RequestTimeout", "500", "503"}
)
# A prefix's `!{timestamp:<pattern>}` expressions and the patterns this path evaluates, as
# strftime directives: those of the template's prefixes (Firehose takes Java date patterns).
_EXPRESSION = re.compile(r"!\{timestamp:([^}]*)\}")
_PATTERNS = {"yyyy": "%Y", "MM": "%m", "dd": "%d", "HH": "%H", "mm": "%M"}
# zlib's level 6 (gzip's default) costs three times level 1 for a few per cent on NDJSON; the
# direct path's largest objects are recordings, mostly gzip'd snapshots already.
_GZIP_LEVEL = 1


def prefix_at(prefix: str, now: datetime) -> str:
    """A Firehose prefix with its `!{timestamp:...}` expressions evaluated at `now` (UTC)."""

    def evaluate(match: re.Match[str]) -> str:
        if match[1] not in _PATTERNS:
            raise ValueError(f"a prefix expression this API does not evaluate: {match[0]}")
        return now.strftime(_PATTERNS[match[1]])

    folder = _EXPRESSION.sub(evaluate, prefix)
    if "!{" in folder:
        raise ValueError(f"a prefix expression Firehose evaluates and this API does not: {prefix}")
    return folder


def gzip_lines(chunks: Sequence[bytes], level: int = _GZIP_LEVEL) -> bytearray:
    """One gzip member of the chunks (whole NDJSON lines), compressed as they come into one
    buffer, so the compressed form is never held twice."""
    compressor = zlib.compressobj(level, zlib.DEFLATED, 31)  # 31: the gzip container
    body = bytearray()
    for chunk in chunks:
        body += compressor.compress(chunk)
    body += compressor.flush()
    return body


def _utc_now() -> datetime:
    return datetime.now(UTC)


class DirectPath:
    """Writes lines to `bucket` under a stream's `prefix` (objects named for stream `name`),
    retrying what S3 may heal, as `pacing` allows."""

    def __init__(
        self,
        pacing: Pacing,
        bucket: str,
        prefix: str,
        name: str,
        *,
        now: Callable[[], datetime] = _utc_now,
        object_ids: Callable[[], str] = lambda: str(uuid.uuid4()),
    ) -> None:
        prefix_at(prefix, datetime(2000, 1, 1, tzinfo=UTC))  # refuse a prefix it cannot evaluate, at once
        self._pacing = pacing
        self._bucket = bucket
        self._prefix = prefix
        self._name = name
        self._now = now
        self._object_ids = object_ids

    def object_key(self) -> str:
        """A new object's key: the prefix at this hour, `direct-`, the stream, the time, an id."""
        now = self._now()
        name = f"direct-{self._name}-{now:%Y-%m-%d-%H-%M-%S}-{self._object_ids()}.gz"
        return prefix_at(self._prefix, now) + name

    def write(self, chunks: Sequence[bytes], deadline: float) -> bool:
        """Store the chunks (whole NDJSON lines) as one object by `deadline`; False if S3 did not
        take it. Every try writes the same key, so a try that S3 kept but did not confirm in time
        is overwritten, never doubled. The caller may drop `chunks` once this has begun."""
        body, key = gzip_lines(chunks), self.object_key()
        # The budget counts from here: compressing a large recording takes a share of a second.
        pacing = self._pacing
        deadline = pacing.deadline(deadline)
        attempt = 0
        while (client := pacing.client(deadline)) is not None:
            try:
                client.put_object(Bucket=self._bucket, Key=key, Body=body)
            except ClientError as error:
                code = error_code(error)
                if code not in RETRYABLE_ERROR_CODES:
                    logger.error("S3 refused the direct path's object", extra={"error_code": code})
                    break
                logger.warning("S3 call failed", extra={"error_code": code})
            except BotoCoreError as error:
                logger.warning("S3 call failed", extra={"error_code": error_code(error)})
            else:
                metrics.add_metric(name="DirectPathObjects", unit="Count", value=1)
                return True
            attempt += 1
            if not pacing.pause(attempt, deadline):
                break
        metrics.add_metric(name="DirectPathErrors", unit="Count", value=1)
        return False
