"""Realistic payloads: events shaped like posthog-js's, about 1.2 KB each once serialised."""

from __future__ import annotations

import gzip
import json
import random
import uuid
from typing import Any

TOKEN = "phc_bench_token"


def browser_event(rng: random.Random, index: int) -> dict[str, Any]:
    session = f"0193{rng.getrandbits(48):012x}-{index // 50:04x}"
    path = rng.choice(
        ["/", "/pricing", "/docs/getting-started", "/blog/shipping-faster", "/cart", "/checkout"]
    )
    return {
        "uuid": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        "event": rng.choice(["$pageview", "$autocapture", "clicked_buy", "$pageleave", "signed_up"]),
        "timestamp": f"2026-11-26T10:{index % 60:02d}:{rng.randint(0, 59):02d}.{rng.randint(0, 999):03d}Z",
        "properties": {
            "$os": "Mac OS X",
            "$os_version": "15.1.0",
            "$browser": "Chrome",
            "$device_type": "Desktop",
            "$current_url": f"https://shop.example.com{path}?utm_source=newsletter&utm_medium=email",
            "$host": "shop.example.com",
            "$pathname": path,
            "$raw_user_agent": (
                "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) "
                "Chrome/131.0.0.0 Safari/537.36"
            ),
            "$browser_version": 131,
            "$browser_language": "en-GB",
            "$screen_height": 1117,
            "$screen_width": 1728,
            "$viewport_height": 970,
            "$viewport_width": 1728,
            "$lib": "web",
            "$lib_version": "1.200.0",
            "$insert_id": f"{rng.getrandbits(64):016x}",
            "$time": 1795752000.123 + index,
            "distinct_id": f"0193{rng.getrandbits(40):010x}",
            "$device_id": f"0193{rng.getrandbits(40):010x}",
            "$session_id": session,
            "$window_id": f"0193{rng.getrandbits(40):010x}",
            "$pageview_id": f"0193{rng.getrandbits(40):010x}",
            "$referrer": "https://www.google.com/",
            "$referring_domain": "www.google.com",
            "$initial_referrer": "$direct",
            "$is_identified": False,
            "$process_person_profile": True,
            "title": "Shop - Warm socks for cold feet",
            "$feature_flag_called": False,
            "$active_feature_flags": ["new-checkout", "pricing-v2"],
            "token": TOKEN,
            "$sent_at": "2026-11-26T10:00:00.000Z",
        },
        "offset": rng.randint(0, 5000),
    }


def browser_batch(count: int, seed: int = 1) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    return [browser_event(rng, index) for index in range(count)]


def json_bytes(events: list[dict[str, Any]]) -> bytes:
    return json.dumps(events, separators=(",", ":")).encode()


def gzip_bytes(events: list[dict[str, Any]]) -> bytes:
    return gzip.compress(json_bytes(events), compresslevel=6)
