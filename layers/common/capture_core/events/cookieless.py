"""Cookieless mode (docs/protocol.md §15): the ids a visitor who keeps no cookie is stored under.

posthog-js with `cookieless_mode: "always"` (or "on_reject" after a refusal) sends every event
with `distinct_id: "$posthog_cookieless"` and `$cookieless_mode: true`, and the server computes
the visitor's ids as PostHog does: a keyed hash (SipHash-2-4, 128 bits) of the project, the
client's IP address, the root domain of the page and the browser's user agent, keyed by a random
salt per calendar day. The salt is deleted once no timezone is in its day any more, after which
no one can tell which visitor a hash stood for.

This is PostHog's stateless mode: one id per visitor per day and one session per day, and no
`$identify` (an identified visitor keeps their own distinct id in posthog-js). The IP address, the
raw user agent and `$cookieless_extra`, used for the hash, are never stored.
"""

from __future__ import annotations

import base64
import ipaddress
import math
import re
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from capture_core.errors import InvalidPayload

SENTINEL = "$posthog_cookieless"
MODE_PROPERTY = "$cookieless_mode"
EXTRA_PROPERTY = "$cookieless_extra"
# Events that name a person, which a visitor without any state cannot be (PostHog drops them too).
UNSUPPORTED_EVENTS = frozenset({"$identify", "$create_alias", "$merge_dangerously"})
# Every timezone lies between UTC-12 and UTC+14: a day's salt is in use from 12 hours before its
# UTC start to 14 hours after its UTC end, and deleted after.
_EARLIEST, _LATEST = timedelta(hours=-12), timedelta(hours=24 + 14)

MASK = (1 << 64) - 1


def _rotate(value: int, bits: int) -> int:
    return ((value << bits) | (value >> (64 - bits))) & MASK


def siphash_2_4_128(key: bytes, data: bytes) -> tuple[int, int]:
    """SipHash-2-4 with its 128-bit output (the reference algorithm, as `siphasher`'s `sip128`
    computes it), as its two 64-bit halves."""
    k0, k1 = int.from_bytes(key[:8], "little"), int.from_bytes(key[8:16], "little")
    v0, v1 = k0 ^ 0x736F6D6570736575, k1 ^ 0x646F72616E646F6D ^ 0xEE
    v2, v3 = k0 ^ 0x6C7967656E657261, k1 ^ 0x7465646279746573

    def rounds(count: int) -> None:
        nonlocal v0, v1, v2, v3
        for _ in range(count):
            v0 = (v0 + v1) & MASK
            v1 = _rotate(v1, 13) ^ v0
            v0 = _rotate(v0, 32)
            v2 = (v2 + v3) & MASK
            v3 = _rotate(v3, 16) ^ v2
            v0 = (v0 + v3) & MASK
            v3 = _rotate(v3, 21) ^ v0
            v2 = (v2 + v1) & MASK
            v1 = _rotate(v1, 17) ^ v2
            v2 = _rotate(v2, 32)

    whole = len(data) - len(data) % 8
    for offset in range(0, whole, 8):
        block = int.from_bytes(data[offset : offset + 8], "little")
        v3 ^= block
        rounds(2)
        v0 ^= block
    last = int.from_bytes(data[whole:], "little") | ((len(data) & 0xFF) << 56)
    v3 ^= last
    rounds(2)
    v0 ^= last
    v2 ^= 0xEE
    rounds(4)
    first = v0 ^ v1 ^ v2 ^ v3
    v1 ^= 0xDD
    rounds(4)
    return first, v0 ^ v1 ^ v2 ^ v3


def visitor_hash(
    salt: bytes, project_id: int, ip: str, root_domain: str, user_agent: str, *, n: int = 0, extra: str = ""
) -> bytes:
    """The 16 bytes a visitor's ids are made from, as PostHog computes them (its own test vectors
    hold this to its Rust and Node implementations)."""
    if len(salt) != 16:
        raise ValueError("a cookieless salt is 16 bytes")
    text = f"{project_id}-{ip}-{root_domain}-{user_agent}-{n}-{extra[:100]}"
    first, second = siphash_2_4_128(salt, text.encode("utf-8"))
    low, high = first.to_bytes(8, "little"), second.to_bytes(8, "little")
    # PostHog's byte order: each half's 32-bit words swapped, the second half first.
    return high[4:] + high[:4] + low[4:] + low[:4]


def _text(hash_bytes: bytes) -> str:
    return base64.b64encode(hash_bytes).decode().rstrip("=")


def distinct_id_of(hash_bytes: bytes) -> str:
    return f"cookieless_{_text(hash_bytes)}"


def device_id_of(hash_bytes: bytes) -> str:
    return f"cookielessd_{_text(hash_bytes)}"


def session_id_of(day_start_ms: int, hash_bytes: bytes) -> str:
    """A UUIDv7 for the visitor's one session of the day: the day's start as its time, bytes of
    the hash as its random part (74 of its bits), so that every event of the day names it."""
    random = hash_bytes[:10]
    value = bytearray(day_start_ms.to_bytes(6, "big"))
    value += bytes([0x70 | (random[0] & 0x0F), random[1], 0x80 | (random[2] & 0x3F)]) + random[3:10]
    text = bytes(value).hex()
    return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"


def root_domain(host: str) -> str:
    """The registrable domain of a page's host (eTLD+1, its port kept), as PostHog reduces it:
    `shop.example.co.uk:8080` is `example.co.uk:8080`; IP addresses stay as they are (IPv6 in
    brackets); `localhost` is 127.0.0.1."""
    if not host:
        return host
    try:
        if isinstance(address := ipaddress.ip_address(host), ipaddress.IPv6Address):
            return f"[{address}]"
    except ValueError:
        pass
    try:
        parts = urlsplit(host if "://" in host else f"http://{host}")
        hostname, port = parts.hostname or "", parts.port
    except ValueError:
        return host
    try:
        address = ipaddress.ip_address(hostname)
        domain = f"[{address}]" if address.version == 6 else str(address)
    except ValueError:
        domain = _registrable(hostname)
    if domain == "localhost":
        domain = "127.0.0.1"
    return f"{domain}:{port}" if port is not None else domain


def _registrable(hostname: str) -> str:
    from publicsuffixlist import PublicSuffixList  # noqa: PLC0415 (loaded by the first cookieless event)

    global _SUFFIXES  # noqa: PLW0603 (the list, parsed once per container)
    if _SUFFIXES is None:
        _SUFFIXES = PublicSuffixList()
    return _SUFFIXES.privatesuffix(hostname) or hostname


_SUFFIXES: Any = None


def day_of(timestamp_ms: int, timezone: Any) -> tuple[date, int]:
    """The calendar day of an event in the visitor's timezone (`$timezone`, else UTC), and the
    epoch milliseconds of that day's start."""
    zone: Any = UTC
    if isinstance(timezone, str) and re.fullmatch(r"[A-Za-z0-9_+\-/]{1,64}", timezone):
        try:
            zone = ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError):
            zone = UTC
    local = datetime.fromtimestamp(timestamp_ms / 1000, UTC).astimezone(zone)
    start = local.replace(hour=0, minute=0, second=0, microsecond=0)
    return local.date(), int(start.timestamp() * 1000)


def day_in_use(day: date, now: datetime) -> bool:
    """Is some timezone in `day` now? Only such a day's salt may be made or used."""
    start = datetime(day.year, day.month, day.day, tzinfo=UTC)
    return start + _EARLIEST <= now < start + _LATEST


def salt_expiry(day: date) -> datetime:
    """When a day's salt is no longer needed by any timezone."""
    return datetime(day.year, day.month, day.day, tzinfo=UTC) + _LATEST


def is_cookieless(properties: Mapping[str, Any]) -> bool:
    """Does the event ask for cookieless ids? `$cookieless_mode` must be a boolean (docs/protocol.md §15)."""
    mode = properties.get(MODE_PROPERTY)
    if mode is None:
        return False
    if not isinstance(mode, bool):
        raise InvalidPayload(f'"{MODE_PROPERTY}" must be true or false.', attr=f"properties.{MODE_PROPERTY}")
    return mode


class Cookieless:
    """Gives a stored event its cookieless ids, with the salts `salt_for(day)` hands out (None:
    that day's salt is no longer, or not yet, in use)."""

    def __init__(self, salt_for: Callable[[date], bytes | None]) -> None:
        self._salt_for = salt_for

    def apply(self, stored: dict[str, Any], client_ip: str | None, timestamp_ms: int) -> str | None:
        """Rewrite `stored` in place with the visitor's ids; the reason it cannot be stored (PostHog
        drops such events too), or None."""
        properties = stored["properties"]
        if stored["event"] in UNSUPPORTED_EVENTS:
            return "cookieless_unsupported_event"
        user_agent, host = properties.get("$raw_user_agent"), properties.get("$host")
        if not (isinstance(user_agent, str) and user_agent and isinstance(host, str) and host and client_ip):
            return "cookieless_missing_properties"
        day, day_start_ms = day_of(timestamp_ms, properties.get("$timezone"))
        salt = self._salt_for(day)
        if salt is None:
            return "cookieless_day_out_of_range"
        extra = properties.get(EXTRA_PROPERTY)
        hashed = visitor_hash(
            salt, stored["project_id"], client_ip, root_domain(host), user_agent,
            extra=extra if isinstance(extra, str) else "",
        )  # fmt: skip
        stored["distinct_id"] = distinct_id_of(hashed)
        properties["$distinct_id"] = stored["distinct_id"]
        properties["$device_id"] = device_id_of(hashed)
        properties["$session_id"] = session_id_of(day_start_ms, hashed)
        _strip_what_identifies_the_visitor(stored)
        return None


def _strip_what_identifies_the_visitor(stored: dict[str, Any]) -> None:
    # Used for the hash, never stored: without consent they would identify the visitor.
    for key in ("$ip", "$raw_user_agent", EXTRA_PROPERTY):
        stored["properties"].pop(key, None)
    for where in (stored, stored["properties"]):
        for name, key in (("$set", "$raw_user_agent"), ("$set_once", "$initial_raw_user_agent")):
            if isinstance(where.get(name), dict):
                where[name].pop(key, None)
    stored["ip"] = None


def timestamp_ms_of(text: str) -> int:
    """Epoch milliseconds of a stored event's `timestamp` (UTC ISO 8601 with milliseconds)."""
    parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return math.floor(parsed.timestamp() * 1000)
