"""Firehose's delivery to S3 as AWS does it, in place of moto's (which writes `!{...}` literally
under its own YYYY/MM/DD/HH/, uncompressed): the prefix's `!{timestamp:...}` evaluated, and gzip'd
objects named `.gz` for CompressionFormat GZIP. `make query` reads what Athena reads on AWS."""

from __future__ import annotations

import gzip
import re
import uuid
from datetime import UTC, datetime
from typing import Any

_EXPRESSION = re.compile(r"!\{timestamp:([^}]*)\}")
# The Java DateTimeFormatter patterns Firehose prefixes use, as strftime directives.
_PATTERNS = {"yyyy": "%Y", "MM": "%m", "dd": "%d", "HH": "%H", "mm": "%M"}


def object_key(stream: str, version: str, prefix: str, compression: str, now: datetime) -> str:
    """Where Firehose puts a batch of records delivered at `now` (UTC)."""
    folder = _EXPRESSION.sub(lambda m: now.strftime(_PATTERNS.get(m[1], m[1])), prefix)
    if "!{" in folder:
        raise ValueError(f"a prefix expression Firehose evaluates and this stack does not: {prefix}")
    extension = ".gz" if compression == "GZIP" else ""
    return f"{folder}{stream}-{version}-{now:%Y-%m-%d-%H-%M-%S}-{uuid.uuid4()}{extension}"


def install() -> None:
    """Deliver every Firehose stream of this process's moto as AWS does (idempotent)."""
    from moto.firehose.models import FirehoseBackend  # noqa: PLC0415 (moto is slow to import)
    from moto.s3.models import s3_backends  # noqa: PLC0415

    def put_s3_records(
        self: Any, name: str, version: str, destination: dict[str, Any], records: list[dict[str, bytes]]
    ) -> list[dict[str, str]]:
        compression = destination.get("CompressionFormat", "UNCOMPRESSED")
        key = object_key(name, version, destination.get("Prefix", ""), compression, datetime.now(UTC))
        data = b"".join(record["Data"] for record in records)
        body = gzip.compress(data, mtime=0) if compression == "GZIP" else data
        s3_backends[self.account_id][self.partition].put_object(
            destination["BucketARN"].split(":")[-1], key, body
        )
        return [{"RecordId": str(uuid.uuid4())} for _ in records]

    FirehoseBackend.put_s3_records = put_s3_records  # type: ignore[method-assign,assignment]
