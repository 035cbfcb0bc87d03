"""Event times as integer epoch milliseconds: parsed from what clients send, formatted as UTC ISO 8601.

Batches carry thousands of events stamped within the same few minutes, so formatting caches each
minute's text and does the rest with integer arithmetic. Parsing is `datetime.fromisoformat`'s
(a per-minute cache saved only a fraction of a microsecond per event: not worth its code).
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from typing import Any

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MS_PER_MINUTE = 60_000
MIN_MS = (datetime(1, 1, 1, tzinfo=UTC) - EPOCH) // timedelta(milliseconds=1)
MAX_MS = (datetime(9999, 12, 31, 23, 59, 59, 999000, tzinfo=UTC) - EPOCH) // timedelta(milliseconds=1)
_CACHE_LIMIT = 4096
_minute_text: dict[int, str] = {}  # minute number -> "YYYY-MM-DDTHH:MM"


def to_ms(moment: datetime) -> int:
    """Epoch milliseconds of an aware datetime (naive ones are taken as UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return (moment - EPOCH) // timedelta(milliseconds=1)


def in_range(ms: int) -> bool:
    return MIN_MS <= ms <= MAX_MS


def format_ms(ms: int) -> str:
    """`ms` as `YYYY-MM-DDTHH:MM:SS.mmmZ`; `ms` must be in range."""
    minute, rest = divmod(ms, MS_PER_MINUTE)
    prefix = _minute_text.get(minute)
    if prefix is None:
        if len(_minute_text) >= _CACHE_LIMIT:
            _minute_text.clear()
        prefix = _minute_text[minute] = (EPOCH + timedelta(minutes=minute)).isoformat(timespec="minutes")[:16]
    second, milli = divmod(rest, 1000)
    return f"{prefix}:{second:02d}.{milli:03d}Z"


def parse_ms(value: Any) -> int | None:
    """Epoch milliseconds of an ISO 8601 / RFC 3339 string (a time without zone is UTC) or of epoch
    milliseconds (a number or a string of digits); None when it is neither or out of range."""
    if isinstance(value, str):
        ms = _parse_text(value.strip())
    elif isinstance(value, bool):
        return None
    elif isinstance(value, int):
        ms = value
    elif isinstance(value, float):
        if not math.isfinite(value):
            return None
        ms = int(value // 1)
    else:
        return None
    return ms if ms is not None and in_range(ms) else None


def _parse_text(text: str) -> int | None:
    if text.isascii() and text.isdigit():
        return int(text) if len(text) <= 20 else None
    try:
        parsed = datetime.fromisoformat(text.upper())  # RFC 3339 allows "t" and "z"
    except ValueError:
        return None
    return to_ms(parsed)
