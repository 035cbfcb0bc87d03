"""What the local stack keeps across restarts, in a folder a user can read (`.capture-local/data/`
by default; `make reset` deletes it):

- `tables/<table>.jsonl`: every item of each table (projects, keys, settings, usage, cookieless
  salts), one item per line in DynamoDB's JSON, rewritten within a second of a change;
- `objects/<bucket>/<key>`: every object of each bucket, written as it is stored: the streams'
  gzip'd NDJSON under `events/…` and `recordings/…` (`zcat` reads them).

On start, the tables' items and the objects are put back into moto before any function runs, so
nothing is counted twice and a key works as it did.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from capture_local import notifications

Client = Callable[[str], Any]
_SAVE_EVERY_S = 1.0


def _atomic_write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_bytes(data)
    os.replace(temporary, path)


class LocalData:
    def __init__(self, folder: Path, tables: list[str], buckets: list[str]) -> None:
        self.folder = folder
        self._tables, self._buckets = tables, set(buckets)
        self._digests: dict[str, str] = {}
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._client: Client | None = None

    # Restoring

    def restore(self, client: Client) -> tuple[int, int]:
        """Put the kept items and objects back; returns how many of each."""
        items = objects = 0
        dynamodb, s3 = client("dynamodb"), client("s3")
        for table in self._tables:
            rows = self._read_table(table)
            for start in range(0, len(rows), 25):
                requests = [{"PutRequest": {"Item": item}} for item in rows[start : start + 25]]
                pending: dict[str, Any] = {table: requests}
                while pending:
                    pending = dynamodb.batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}
            items += len(rows)
            self._digests[table] = self._digest(rows)
        for bucket, key, path in self._kept_objects():
            s3.put_object(Bucket=bucket, Key=key, Body=path.read_bytes())
            objects += 1
        return items, objects

    def _read_table(self, table: str) -> list[dict[str, Any]]:
        path = self.folder / "tables" / f"{table}.jsonl"
        if not path.is_file():
            return []
        return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]

    def _kept_objects(self) -> Iterator[tuple[str, str, Path]]:
        root = self.folder / "objects"
        for bucket in sorted(self._buckets):
            folder = root / bucket
            if not folder.is_dir():
                continue
            files = [path for path in folder.rglob("*") if path.is_file() and not path.name.startswith(".")]
            for path in sorted(files, key=lambda path: path.stat().st_mtime_ns):
                yield bucket, path.relative_to(folder).as_posix(), path

    # Keeping

    def keep(self, client: Client) -> None:
        """From now on, write each object as it is stored and the tables as they change."""
        self._client = client
        notifications.install()
        notifications.LISTENERS.append(self._object_stored)
        self._thread = threading.Thread(target=self._save_tables_regularly, name="local-data", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop keeping, after one last save of the tables."""
        if self._object_stored in notifications.LISTENERS:
            notifications.LISTENERS.remove(self._object_stored)
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._save_tables()

    def _object_stored(self, bucket: str, key: str, body: bytes) -> None:
        if bucket in self._buckets and ".." not in key.split("/"):
            _atomic_write(self.folder / "objects" / bucket / key, body)

    def _save_tables_regularly(self) -> None:
        while not self._stopping.wait(_SAVE_EVERY_S):
            self._save_tables()

    def _save_tables(self) -> None:
        if self._client is None:
            return
        dynamodb = self._client("dynamodb")
        for table in self._tables:
            try:
                pages = dynamodb.get_paginator("scan").paginate(TableName=table)
                rows = sorted((item for page in pages for item in page.get("Items", [])), key=json.dumps)
            except (BotoCoreError, ClientError):  # moto stopping under it: the last save stands
                return
            digest = self._digest(rows)
            if self._digests.get(table) != digest:
                text = "".join(json.dumps(item, sort_keys=True) + "\n" for item in rows)
                _atomic_write(self.folder / "tables" / f"{table}.jsonl", text.encode())
                self._digests[table] = digest

    @staticmethod
    def _digest(rows: list[dict[str, Any]]) -> str:
        return hashlib.sha256("".join(json.dumps(item, sort_keys=True) for item in rows).encode()).hexdigest()
