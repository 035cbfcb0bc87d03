"""A project's quotas as a request sees them: which lanes are over their monthly limit.

A quota is a limit per project, lane (analytics events, recordings) and calendar month (UTC). The
counting happens off the request path (`capture_core.usage`): when a project's count for the month
reaches its limit, the counter writes the month into `over_quota_<lane>` on the project's item and
on each of its keys. The key lookup every request already makes reads it, so enforcing a quota
costs no read or write of its own, and a new month lifts it without anyone acting: the attribute
then names a month that is over.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from capture_core.observability import logger

EVENTS, RECORDINGS = "events", "recordings"
LANES = (EVENTS, RECORDINGS)
_MONTH = re.compile(r"\d{4}-(0[1-9]|1[0-2])")


def month_of(moment: datetime) -> str:
    """The calendar month (UTC) a moment falls in, as `YYYY-MM`: what quotas count by."""
    return f"{moment:%Y-%m}"


def state_attribute(lane: str) -> str:
    """The item attribute that holds the month `lane` is over quota in."""
    return f"over_quota_{lane}"


def limit_attribute(lane: str) -> str:
    """The project item's attribute that holds `lane`'s monthly limit (absent: no limit)."""
    return f"quota_{lane}"


@dataclass(frozen=True, slots=True)
class QuotaState:
    """The month each lane is over quota in, as the item says (no entry: not over)."""

    over: Mapping[str, str] = field(default_factory=dict)

    def limits(self, lane: str, now: datetime) -> bool:
        """Is `lane` over quota at `now`? Only in the month it went over."""
        return self.over.get(lane) == month_of(now)

    @classmethod
    def from_item(cls, item: Mapping[str, Any]) -> QuotaState:
        """The state an item carries. A malformed entry is logged and read as not over quota: a
        quota stops events, so only a well-formed month may do it."""
        over: dict[str, str] = {}
        for lane in LANES:
            attribute = item.get(state_attribute(lane))
            if attribute is None:
                continue
            month = attribute.get("S") if isinstance(attribute, Mapping) else None
            if isinstance(month, str) and _MONTH.fullmatch(month):
                over[lane] = month
            else:
                logger.warning(
                    "A quota state in the key table is malformed; it is ignored", extra={"lane": lane}
                )
        return cls(over) if over else NOT_OVER

    def attributes(self) -> dict[str, Any]:
        """The state as DynamoDB attribute values (to copy onto a new key)."""
        return {state_attribute(lane): {"S": month} for lane, month in self.over.items()}


NOT_OVER = QuotaState()
