"""lz-string `decompressFromBase64`, capped, as older posthog-js sends it (`compression=lz64`).

The PyPI `lzstring` package decodes the same format (the tests hold this module to it), but it can
neither stop at a size limit nor fail cleanly: an lz-string stream of n codes can expand to about
n²/2 characters, so a small body is a decompression bomb, and malformed input raises arbitrary
exceptions. This decoder stops once the output passes `limit` and reports corrupt input as `None`.
"""

from __future__ import annotations

import base64
import re
from itertools import repeat

# Characters outside the base64 alphabet read as 0, as in the JavaScript original ("=" included):
# as "A" does. The stream is then standard base64, which the C decoder turns into bytes.
_READ_AS_ZERO = re.compile(r"[^A-Za-z0-9+/]")
_END_OF_STREAM = 2
# lz-string reads each character's bits most significant first into codes least significant bit
# first. With each byte's bits reversed, the stream is a little-endian number whose bit k is the
# stream's bit k: a code is then a mask and a shift.
_REVERSED_BYTE = bytes(int(f"{byte:08b}"[::-1], 2) for byte in range(256))
_REFILL_BYTES = 7  # bytes taken into the bit buffer at a time
# Codes read between two checks of the output's length and of the code width.
_BATCH = 256


class OutputTooLarge(Exception):
    """The decompressed text would be longer than the limit."""


def _bytes(text: str) -> bytes:
    """The stream's bytes, each byte's bits reversed."""
    clean = _READ_AS_ZERO.sub("A", text)
    return base64.b64decode(clean + "A" * (-len(clean) % 4)).translate(_REVERSED_BYTE)


def decompress_from_base64(text: str, limit: int) -> str | None:  # noqa: PLR0915 (one hot loop, inlined)
    """Decompress lz-string base64 `text`; `None` when it is corrupt or ends early.

    The result is made of UTF-16 code units, as in JavaScript: astral characters come out as
    surrogate pairs, which the caller joins.

    The output's length is checked every `_BATCH` codes, so it may pass `limit` by that many
    entries before the check stops it: an entry is at most one character longer than an earlier
    output, so entries stay under about √(2·limit) characters while the output is within it.
    """
    if not text:
        return None
    stream = _bytes(text)
    total = len(text) * 6  # bits; past them the stream reads as zeros, as JavaScript reads it
    from_bytes = int.from_bytes

    # `buffer` holds the stream's next `held` bits, lowest first; `taken` bytes are in it or used.
    # The stream opens with a 2-bit code (a first literal of 8 or 16 bits, or the end).
    buffer = from_bytes(stream[:_REFILL_BYTES], "little")
    first = buffer & 3
    if first >= _END_OF_STREAM:
        return "" if first == _END_OF_STREAM else None
    w = chr((buffer >> 2) & ((256 << (8 * first)) - 1))
    buffer >>= 2 + (8 << first)
    held, taken = _REFILL_BYTES * 8 - 2 - (8 << first), _REFILL_BYTES
    dictionary: list[str] = ["", "", "", w]
    append_entry = dictionary.append
    result = [w]
    append_result = result.append
    # Literal characters, one string each however often the stream repeats them (at most 65,536).
    characters: dict[int, str] = {}
    remember = characters.setdefault
    width, wider_at = 3, 8  # a code is as wide as the dictionary's size in bits
    length = counted = 0
    while True:
        size = len(dictionary)
        if size >= wider_at:
            wider_at <<= 1
            width += 1
        mask, enough = wider_at - 1, width + 16
        length += sum(map(len, result[counted:]))
        counted = len(result)
        if length > limit:
            raise OutputTooLarge
        # Up to the next change of width; a literal makes two entries, so it takes two turns.
        turns = repeat(None, min(_BATCH, wider_at - size))
        for _ in turns:
            if held < enough:  # a code, and the literal that may follow it
                buffer |= from_bytes(stream[taken : taken + _REFILL_BYTES], "little") << held
                held += _REFILL_BYTES * 8
                taken += _REFILL_BYTES
            code = buffer & mask
            buffer >>= width
            held -= width
            if code <= _END_OF_STREAM:
                if code == _END_OF_STREAM:
                    output = "".join(result)
                    if len(output) > limit:
                        raise OutputTooLarge
                    return output
                if taken * 8 - held - width >= total:
                    return None  # the stream ended without its end marker: the rest reads as 0
                value = buffer & ((256 << (8 * code)) - 1)  # a literal of 8 or 16 bits
                buffer >>= 8 << code
                held -= 8 << code
                entry = remember(value, chr(value))
                append_entry(entry)
                append_result(entry)
                append_entry(w + entry)
                w = entry
                next(turns, None)
                continue
            try:
                entry = dictionary[code]
            except IndexError:
                if code != len(dictionary):
                    return None
                entry = w + w[0]
            append_result(entry)
            append_entry(w + entry[0])
            w = entry
