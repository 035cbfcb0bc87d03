"""The daily salts of cookieless mode, kept in the key table.

Item `cookieless_salt#<yyyy-mm-dd>`: `salt` B (16 random bytes), `expires_at` N (epoch seconds,
the table's TTL attribute: DynamoDB deletes the item once no timezone is in its day). The first
container to need a day's salt writes one with a conditional put; one that loses that race reads
the winner's, so every container hashes a day with the same salt. Each container keeps the salts
it used, and forgets a day's when the day is over everywhere.

The key ids hold a `#`, which no API key can: no token a client sends can name a salt.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from capture_core.aws_errors import error_code
from capture_core.errors import AuthUnavailable
from capture_core.events.cookieless import day_in_use, salt_expiry
from capture_core.observability import logger

SALT_PREFIX = "cookieless_salt#"


def _utc_now() -> datetime:
    return datetime.now(UTC)


class CookielessSalts:
    """`for_day(day)`: the day's salt, made once for every container; None for a day no timezone
    is in now (its salt is gone, or not yet due)."""

    def __init__(self, client: Any, table_name: str, *, now: Callable[[], datetime] = _utc_now) -> None:
        self._client = client
        self._table_name = table_name
        self._now = now
        self._salts: dict[date, bytes] = {}

    def for_day(self, day: date) -> bytes | None:
        now = self._now()
        for known in [known for known in self._salts if not day_in_use(known, now)]:
            del self._salts[known]  # forgotten here as it is deleted from the table
        if not day_in_use(day, now):
            return None
        if day not in self._salts:
            self._salts[day] = self._read_or_make(day, now)
        return self._salts[day]

    def _read_or_make(self, day: date, now: datetime) -> bytes:
        key = {"key_id": {"S": f"{SALT_PREFIX}{day.isoformat()}"}}
        try:
            found = self._read(key, now)
            if found is not None:
                return found
            salt = secrets.token_bytes(16)
            try:
                self._client.put_item(
                    TableName=self._table_name,
                    Item={
                        **key,
                        "salt": {"B": salt},
                        "expires_at": {"N": str(int(salt_expiry(day).timestamp()))},
                    },
                    ConditionExpression="attribute_not_exists(key_id)",
                )
                return salt
            except ClientError as error:
                if error_code(error) != "ConditionalCheckFailedException":
                    raise
            # Another container made the day's salt first: use that one.
            found = self._read(key, now)
            if found is None:
                raise AuthUnavailable("The cookieless salt could not be read; retry later.")
            return found
        except (BotoCoreError, ClientError) as error:
            logger.warning("Cookieless salt lookup failed", extra={"error_code": error_code(error)})
            raise AuthUnavailable("The cookieless salt could not be read; retry later.") from error

    def _read(self, key: dict[str, Any], now: datetime) -> bytes | None:
        item = self._client.get_item(TableName=self._table_name, Key=key, ConsistentRead=True).get("Item")
        if item is None:
            return None
        salt, expires = item.get("salt", {}).get("B"), item.get("expires_at", {}).get("N", "0")
        if not isinstance(salt, bytes) or len(salt) != 16 or not str(expires).isdigit():
            logger.warning("A cookieless salt item is malformed")
            raise AuthUnavailable("The cookieless salt could not be read; retry later.")
        # DynamoDB deletes expired items within days, not at once: an expired salt is never used.
        return salt if int(expires) > now.timestamp() else None
