"""lz-string `decompressFromBase64`, capped, as older posthog-js sends it (`compression=lz64`).

The PyPI `lzstring` package decodes the same format (the tests hold this module to it), but it can
neither stop at a size limit nor fail cleanly: an lz-string stream of n codes can expand to about
n²/2 characters, so a small body is a decompression bomb, and malformed input raises arbitrary
exceptions. This decoder stops as soon as the output passes `limit` and reports corrupt input as
`None`.
"""

from __future__ import annotations

import base64
import re

# Characters outside the base64 alphabet read as 0, as in the JavaScript original ("=" included):
# as "A" does. The stream is then standard base64, which the C decoder turns into bits.
_READ_AS_ZERO = re.compile(r"[^A-Za-z0-9+/]")
_END_OF_STREAM = 2


class OutputTooLarge(Exception):
    """The decompressed text would be longer than the limit."""


def _reversed_bits(text: str, total: int) -> str:
    """The bit stream, each character's six bits most significant first, reversed: codes are read
    least significant bit first, so that a code is one slice of it."""
    clean = _READ_AS_ZERO.sub("A", text)
    data = base64.b64decode(clean + "A" * (-len(clean) % 4))
    bits = format(int.from_bytes(data, "big"), f"0{len(data) * 8}b")[:total]
    return (bits + "0" * 64)[::-1]  # zeros past the end, as JavaScript reads undefined


def decompress_from_base64(text: str, limit: int) -> str | None:
    """Decompress lz-string base64 `text`; `None` when it is corrupt or ends early.

    The result is made of UTF-16 code units, as in JavaScript: astral characters come out as
    surrogate pairs, which the caller joins.
    """
    if not text:
        return None
    total = len(text) * 6
    reversed_bits = _reversed_bits(text, total)

    # `cursor` walks down the reversed stream: the next code is the slice just below it.
    cursor = len(reversed_bits)
    stop = cursor - total  # at or below it, the stream is used up
    first = int(reversed_bits[cursor - 2 : cursor], 2)
    cursor -= 2
    if first == _END_OF_STREAM:
        return ""
    if first > _END_OF_STREAM:
        return None
    literal = 8 if first == 0 else 16
    w = chr(int(reversed_bits[cursor - literal : cursor], 2))
    cursor -= literal
    dictionary: list[str] = ["", "", "", w]
    size = 4
    append_entry = dictionary.append
    result = [w]
    append_result = result.append
    length = 1
    enlarge_in, width = 4, 3
    # The hot loop: one slice and one int() per code, the reader inlined.
    while True:
        if cursor <= stop:
            return None  # the stream ended without its end marker
        code = int(reversed_bits[cursor - width : cursor], 2)
        cursor -= width
        if code < 2:
            literal = 8 if code == 0 else 16
            append_entry(chr(int(reversed_bits[cursor - literal : cursor], 2)))
            cursor -= literal
            code = size
            size += 1
            enlarge_in -= 1
        elif code == _END_OF_STREAM:
            return "".join(result)
        if enlarge_in == 0:
            enlarge_in, width = 1 << width, width + 1
        if code < size:
            entry = dictionary[code]
        elif code == size:
            entry = w + w[0]
        else:
            return None
        length += len(entry)
        if length > limit:
            raise OutputTooLarge
        append_result(entry)
        append_entry(w + entry[0])
        size += 1
        enlarge_in -= 1
        w = entry
        if enlarge_in == 0:
            enlarge_in, width = 1 << width, width + 1
