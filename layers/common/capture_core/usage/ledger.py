"""Each project's usage per month (the usage table), and its quotas and the state a request reads
(the key table).

The usage table's items, by `usage_id`:

- `usage#<project id>#<YYYY-MM>`: `events` N and `recordings` N counted so far, `notified` SS (the
  notices sent, like `events:80`), `expires_at` (a year and a month later).
- `usage_session#<project id>#<YYYY-MM>#<session id>`: a session already counted this month, and
  `counted_by`, the object that counted it (a retry of that object counts it again, no other).
- `usage_object#<bucket>/<key>`: a delivered object already counted, written in the same
  transaction as its counts, so that a notification delivered twice counts once.

Every one expires (`expires_at`, the table's TTL). A project's limits are its key table item's
`quota_events` and `quota_recordings` (N; absent: no limit), and the month a lane went over is
`over_quota_<lane>` on the project's item and each of its keys, found by the key table's
`ProjectIndex` (`auth.quotas` reads it on every request).
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError

from capture_core.auth.key_items import MAX_PROJECT_ID, project_id_of, project_record_id
from capture_core.auth.quotas import LANES, limit_attribute, state_attribute
from capture_core.aws_errors import error_code

PROJECT_INDEX = "ProjectIndex"
# A limit is a whole number of events or sessions a month, at most this many.
MAX_QUOTA = 10**15
# DynamoDB's most items in one transaction.
_MAX_TRANSACTION_ITEMS = 100
# Marks of what was counted outlive every retry of a notification (EventBridge's: a day).
_MARK_DAYS = 35


def usage_id(project_id: int, month: str) -> str:
    return f"usage#{project_id}#{month}"


def month_bounds(month: str) -> tuple[datetime, datetime]:
    """The first moment of `month` (YYYY-MM) and of the month after it, in UTC."""
    year, number = int(month[:4]), int(month[5:7])
    start = datetime(year, number, 1, tzinfo=UTC)
    return start, start + timedelta(days=calendar.monthrange(year, number)[1])


@dataclass
class Counts:
    """What one delivered object adds to a project's month: events, and the sessions recorded."""

    events: int = 0
    sessions: set[str] = field(default_factory=set)


@dataclass(frozen=True, slots=True)
class Usage:
    """A project's month: what was counted, its limits (None: none) and the notices already sent."""

    project_id: int
    month: str
    counted: Mapping[str, int]
    limits: Mapping[str, int | None]
    over: Mapping[str, str]  # lane -> the month the items say it is over quota in
    notified: frozenset[str] = frozenset()

    def share(self, lane: str) -> float | None:
        """The share of `lane`'s limit used (1.0 is the whole), or None without a limit."""
        limit = self.limits.get(lane)
        if limit is None:
            return None
        return self.counted.get(lane, 0) / limit if limit else float("inf")

    def is_over(self, lane: str) -> bool:
        share = self.share(lane)
        return share is not None and share >= 1


def read_limit(item: Mapping[str, Any], lane: str) -> int | None:
    """A lane's limit on a project item; None when it has none or it is malformed (a quota stops
    events, so only a well-formed limit may do it)."""
    attribute = item.get(limit_attribute(lane))
    text = attribute.get("N") if isinstance(attribute, Mapping) else None
    if not (isinstance(text, str) and text.isascii() and text.isdigit() and len(text) <= 16):
        return None
    limit = int(text)
    return limit if limit <= MAX_QUOTA else None


def _number(item: Mapping[str, Any], name: str) -> int:
    attribute = item.get(name)
    text = attribute.get("N") if isinstance(attribute, Mapping) else None
    try:
        return max(0, int(text)) if isinstance(text, str) else 0
    except ValueError:
        return 0


def _month_text(item: Mapping[str, Any], name: str) -> str | None:
    attribute = item.get(name)
    value = attribute.get("S") if isinstance(attribute, Mapping) else None
    return value if isinstance(value, str) else None


class Ledger:
    """The usage table's items, and the quota attributes of the key table's, read and written as the
    counter and `capture-keys` need."""

    def __init__(self, client: Any, keys_table: str, usage_table: str) -> None:
        self._client = client
        self._table = keys_table
        self._usage = usage_table

    def new_sessions(self, project_id: int, month: str, sessions: Iterable[str], counted_by: str) -> int:
        """How many of `sessions` are counted for the first time this month (by `counted_by`, the
        object: a retry of the same object finds its own marks and counts them again)."""
        _, end = month_bounds(month)
        expires = str(int((end + timedelta(days=_MARK_DAYS)).timestamp()))
        new = 0
        for session in sessions:
            try:
                self._client.put_item(
                    TableName=self._usage,
                    Item={
                        "usage_id": {"S": f"usage_session#{project_id}#{month}#{session}"},
                        "kind": {"S": "usage_session"},
                        "counted_by": {"S": counted_by},
                        "expires_at": {"N": expires},
                    },
                    ConditionExpression="attribute_not_exists(usage_id)",
                    ReturnValuesOnConditionCheckFailure="ALL_OLD",
                )
            except ClientError as error:
                if error_code(error) != "ConditionalCheckFailedException":
                    raise
                earlier = error.response.get("Item", {}).get("counted_by", {}).get("S")
                if earlier != counted_by:
                    continue
            new += 1
        return new

    def add(self, counted_object: str, month: str, added: Mapping[int, Mapping[str, int]]) -> bool:
        """Add each project's counts to its month, with the mark that `counted_object` is counted,
        in one transaction each hundred items; False when the object was counted already."""
        now = datetime.now(UTC)
        mark = {
            "Put": {
                "TableName": self._usage,
                "Item": {
                    "usage_id": {"S": f"usage_object#{counted_object}"},
                    "kind": {"S": "usage_object"},
                    "expires_at": {"N": str(int((now + timedelta(days=_MARK_DAYS)).timestamp()))},
                },
                "ConditionExpression": "attribute_not_exists(usage_id)",
            }
        }
        _, end = month_bounds(month)
        expires = str(int((end + timedelta(days=366)).timestamp()))
        updates = [
            {
                "Update": {
                    "TableName": self._usage,
                    "Key": {"usage_id": {"S": usage_id(project_id, month)}},
                    "UpdateExpression": "SET kind = :kind, expires_at = :expires "
                    + "ADD "
                    + ", ".join(f"{lane} :{lane}" for lane in LANES),
                    "ExpressionAttributeValues": {
                        ":kind": {"S": "usage"},
                        ":expires": {"N": expires},
                        **{f":{lane}": {"N": str(counts.get(lane, 0))} for lane in LANES},
                    },
                }
            }
            for project_id, counts in sorted(added.items())
        ]
        chunks = _chunks(updates, _MAX_TRANSACTION_ITEMS - 1)
        for index, chunk in enumerate(chunks):
            # Each chunk has its own mark: a retry after a failure part way skips what was counted.
            chunk_mark = mark if index == 0 else _marked(mark, index)
            try:
                self._client.transact_write_items(TransactItems=[chunk_mark, *chunk])
            except ClientError as error:
                reasons = error.response.get("CancellationReasons") or [{}]
                if reasons[0].get("Code") != "ConditionalCheckFailed":
                    raise
                if index == 0 and len(chunks) == 1:
                    return False
        return True

    def usage(self, project_ids: Iterable[int], month: str) -> dict[int, Usage]:
        """Each project's usage, limits and state for `month` (projects without an item left out)."""
        wanted = sorted(set(project_ids))
        records = {
            item["key_id"]["S"]: item
            for item in self._batch_get(self._table, "key_id", [project_record_id(pid) for pid in wanted])
        }
        used_items = {
            item["usage_id"]["S"]: item
            for item in self._batch_get(self._usage, "usage_id", [usage_id(pid, month) for pid in wanted])
        }
        found: dict[int, Usage] = {}
        for project_id in wanted:
            record = records.get(project_record_id(project_id))
            if record is None or project_id_of(record) != project_id:
                continue
            used = used_items.get(usage_id(project_id, month), {})
            notified = used.get("notified", {}).get("SS", [])
            found[project_id] = Usage(
                project_id,
                month,
                {lane: _number(used, lane) for lane in LANES},
                {lane: read_limit(record, lane) for lane in LANES},
                {
                    lane: month_text
                    for lane in LANES
                    if (month_text := _month_text(record, state_attribute(lane))) is not None
                },
                frozenset(notified if isinstance(notified, list) else []),
            )
        return found

    def first_notice(self, project_id: int, month: str, notice: str) -> bool:
        """Record that `notice` (like `events:80`) was sent for the month; False if it was already."""
        try:
            self._client.update_item(
                TableName=self._usage,
                Key={"usage_id": {"S": usage_id(project_id, month)}},
                UpdateExpression="ADD notified :notice",
                ConditionExpression="attribute_exists(usage_id) AND NOT contains(notified, :text)",
                ExpressionAttributeValues={":notice": {"SS": [notice]}, ":text": {"S": notice}},
            )
        except ClientError as error:
            if error_code(error) == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def set_state(self, project_id: int, lane: str, month: str | None) -> int:
        """Write the month `lane` is over quota in (None: not over) on the project's item and each of
        its keys; returns how many items were written."""
        ids = [project_record_id(project_id), *self._key_ids(project_id)]
        attribute = state_attribute(lane)
        change: dict[str, Any] = (
            {
                "UpdateExpression": f"SET {attribute} = :month",
                "ExpressionAttributeValues": {":month": {"S": month}},
            }
            if month is not None
            else {"UpdateExpression": f"REMOVE {attribute}"}
        )
        written = 0
        for key_id in dict.fromkeys(ids):
            try:
                self._client.update_item(
                    TableName=self._table,
                    Key={"key_id": {"S": key_id}},
                    ConditionExpression="attribute_exists(key_id)",  # never makes an item
                    **change,
                )
            except ClientError as error:
                if error_code(error) != "ConditionalCheckFailedException":
                    raise
                continue
            written += 1
        return written

    def set_limit(self, project_id: int, lane: str, limit: int | None) -> None:
        """Set (None: remove) a lane's monthly limit on the project's item."""
        if limit is not None and not 0 <= limit <= MAX_QUOTA:
            raise ValueError(f"a quota is a whole number from 0 to {MAX_QUOTA:,}, not {limit}")
        attribute = limit_attribute(lane)
        change: dict[str, Any] = (
            {
                "UpdateExpression": f"SET {attribute} = :limit",
                "ExpressionAttributeValues": {":limit": {"N": str(limit)}},
            }
            if limit is not None
            else {"UpdateExpression": f"REMOVE {attribute}"}
        )
        self._client.update_item(
            TableName=self._table,
            Key={"key_id": {"S": project_record_id(project_id)}},
            ConditionExpression="attribute_exists(key_id)",
            **change,
        )

    def _key_ids(self, project_id: int) -> Iterator[str]:
        """The ids of every item that carries the project's id: its item and its keys."""
        if not 1 <= project_id <= MAX_PROJECT_ID:
            return
        pages = self._client.get_paginator("query").paginate(
            TableName=self._table,
            IndexName=PROJECT_INDEX,
            KeyConditionExpression="project_id = :id",
            ExpressionAttributeValues={":id": {"N": str(project_id)}},
        )
        for page in pages:
            for item in page.get("Items", []):
                yield item["key_id"]["S"]

    def _batch_get(self, table: str, key: str, ids: list[str]) -> Iterator[dict[str, Any]]:
        for chunk in _chunks(ids, 100):
            if not chunk:
                continue
            request = {table: {"Keys": [{key: {"S": value}} for value in chunk], "ConsistentRead": True}}
            while request:
                response = self._client.batch_get_item(RequestItems=request)
                yield from response.get("Responses", {}).get(table, [])
                request = response.get("UnprocessedKeys") or {}


def _chunks(items: list[Any], size: int) -> list[list[Any]]:
    return [items[start : start + size] for start in range(0, len(items), size)] or [[]]


def _marked(mark: dict[str, Any], index: int) -> dict[str, Any]:
    put = mark["Put"]
    marked = f"{put['Item']['usage_id']['S']}#{index}"
    return {"Put": {**put, "Item": {**put["Item"], "usage_id": {"S": marked}}}}
