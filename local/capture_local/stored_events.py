"""Reads back what Firehose delivered to the events bucket: objects of NDJSON lines, gzip or not
(the deployed stream compresses; moto stores records as they were sent)."""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from typing import Any

GZIP_MAGIC = b"\x1f\x8b"


def object_lines(data: bytes) -> Iterator[str]:
    text = gzip.decompress(data) if data.startswith(GZIP_MAGIC) else data
    # NDJSON lines end at "\n" only: JSON strings may hold U+2028, U+0085 and others that
    # str.splitlines would also split at.
    for line in text.split(b"\n"):
        if line.strip():
            yield line.decode("utf-8")


def stored_lines(s3: Any, bucket: str, prefix: str = "") -> Iterator[str]:
    """Every stored line, objects in the order they were written."""
    objects = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        objects.extend(page.get("Contents", []))
    for entry in sorted(objects, key=lambda entry: (entry["LastModified"], entry["Key"])):
        yield from object_lines(s3.get_object(Bucket=bucket, Key=entry["Key"])["Body"].read())


def stored_events(s3: Any, bucket: str, prefix: str = "") -> list[dict[str, Any]]:
    return [json.loads(line) for line in stored_lines(s3, bucket, prefix)]
