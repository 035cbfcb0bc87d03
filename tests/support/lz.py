"""lz-string compression as posthog-js does it, for building test payloads."""

from __future__ import annotations

import struct

import lzstring


def js_utf16(text: str) -> str:
    """`text` as JavaScript holds it: astral characters as two surrogate code units."""
    data = text.encode("utf-16-le", "surrogatepass")
    return "".join(map(chr, struct.unpack(f"<{len(data) // 2}H", data)))


def lz64(text: str) -> str:
    """LZString.compressToBase64 of `text`, as posthog-js computes it in the browser."""
    return str(lzstring.LZString().compressToBase64(js_utf16(text)))
