"""Session recordings as posthog-js (1.449) sends them, built in Python.

posthog-js gzips a full snapshot's rrweb data and carries the gzip bytes as a latin-1 string
(`cv: "2024-10"`), sizes each event in UTF-16 code units (a string counts as its `length + 2`),
and posts a JSON array of `$snapshot` events gzip'd as `text/plain`, with no compression hint.
JSON.stringify writes U+0080–U+00FF as themselves (two bytes of UTF-8 each) and control
characters as `\\u00XX`, as `json.dumps(ensure_ascii=False)` does.
"""

from __future__ import annotations

import base64
import gzip
import json
import random
from typing import Any

SESSION_ID_LENGTH = 36


def compressed_full_snapshot(
    characters: int, *, seed: int = 0, marker: str = ""
) -> tuple[str, dict[str, Any]]:
    """A full snapshot's data (a page of random text holding `marker`) and its compressed form as
    posthog-js writes it: gzip bytes as a latin-1 string of at least `characters` characters."""
    rng = random.Random(seed)
    # Base64 text compresses to about three quarters: enough of it for the wanted length.
    text = base64.b64encode(rng.randbytes(characters)).decode()
    data = {
        "node": {"type": 0, "childNodes": [{"type": 3, "textContent": f"{marker} {text}", "id": 2}], "id": 1},
        "initialOffset": {"left": 0, "top": 0},
    }
    compressed = gzip.compress(json.dumps(data, separators=(",", ":")).encode()).decode("latin-1")
    assert len(compressed) >= characters, len(compressed)
    return compressed, data


def snapshot_event(
    token: str, session_id: str, compressed: str, distinct_id: str = "recorded-user"
) -> dict[str, Any]:
    """A `$snapshot` event carrying one compressed full snapshot (rrweb type 2)."""
    rrweb = {"type": 2, "data": compressed, "cv": "2024-10", "timestamp": 1_777_000_000_000}
    return {
        "event": "$snapshot",
        "properties": {
            "$snapshot_bytes": units(rrweb),
            "$snapshot_data": [rrweb],
            "$session_id": session_id,
            "$window_id": session_id,
            "distinct_id": distinct_id,
            "token": token,
        },
    }


def units(value: Any) -> int:
    """posthog-js's estimate of a value's size, in UTF-16 code units (its `estimateSize`)."""
    if value is None:
        return 4
    if isinstance(value, str):
        return len(value.encode("utf-16-le")) // 2 + 2
    if isinstance(value, bool):
        return 4 if value else 5
    if isinstance(value, int | float):
        return len(json.dumps(value))
    if isinstance(value, list):
        return 2 + max(len(value) - 1, 0) + sum(units(item) for item in value)
    return 2 + max(len(value) - 1, 0) + sum(len(key) + 3 + units(item) for key, item in value.items())


def request_body(events: list[dict[str, Any]]) -> bytes:
    """The body posthog-js posts to `/s/`: the JSON array, gzip'd."""
    return gzip.compress(json.dumps(events, ensure_ascii=False, separators=(",", ":")).encode())


def decompressed(rrweb: dict[str, Any]) -> Any:
    """A stored rrweb event's data, inflated as the replay player does."""
    return json.loads(gzip.decompress(rrweb["data"].encode("latin-1")))
