"""Firehose's delivery to S3 as AWS does it, in place of moto's (which writes `!{...}` literally
under its own YYYY/MM/DD/HH/, uncompressed): the prefix's `!{timestamp:...}` evaluated, and gzip'd
objects named `.gz` for CompressionFormat GZIP. `make query` reads what Athena reads on AWS."""

from __future__ import annotations

import gzip
import uuid
from datetime import UTC, datetime
from typing import Any

from capture_core.sink.direct import prefix_at

from capture_local import faults, notifications


def object_key(stream: str, version: str, prefix: str, compression: str, now: datetime) -> str:
    """Where Firehose puts a batch of records delivered at `now` (UTC): the prefix evaluated as the
    functions' direct path evaluates it."""
    folder = prefix_at(prefix, now)
    extension = ".gz" if compression == "GZIP" else ""
    return f"{folder}{stream}-{version}-{now:%Y-%m-%d-%H-%M-%S}-{uuid.uuid4()}{extension}"


def install() -> None:
    """Deliver every Firehose stream of this process's moto as AWS does, and let the local faults
    act (idempotent)."""
    from moto.firehose.models import FirehoseBackend  # noqa: PLC0415 (moto is slow to import)
    from moto.s3.models import S3Backend, s3_backends  # noqa: PLC0415

    notifications.install()  # first: both Firehose's delivery and the functions' PutObject notify
    put_object = getattr(S3Backend.put_object, "original", S3Backend.put_object)

    def put_s3_records(
        self: Any, name: str, version: str, destination: dict[str, Any], records: list[dict[str, bytes]]
    ) -> list[dict[str, str]]:
        compression = destination.get("CompressionFormat", "UNCOMPRESSED")
        key = object_key(name, version, destination.get("Prefix", ""), compression, datetime.now(UTC))
        data = b"".join(record["Data"] for record in records)
        body = gzip.compress(data, mtime=0) if compression == "GZIP" else data
        bucket = destination["BucketARN"].split(":")[-1]
        put_object(s3_backends[self.account_id][self.partition], bucket, key, body)
        return [{"RecordId": str(uuid.uuid4())} for _ in records]

    FirehoseBackend.put_s3_records = put_s3_records  # type: ignore[method-assign,assignment]
    faults.install(put_object)
