"""Bodies by their `Content-Encoding` (capture v1, docs/protocol.md §11): gzip, deflate, br and zstd, each
inflated incrementally and never past the payload limit, so a small bomb costs bounded memory."""

from __future__ import annotations

import io
import zlib

from capture_core.decoding.payload import gunzip
from capture_core.errors import InvalidPayload, RequestTooLarge

ENCODINGS = ("gzip", "deflate", "br", "zstd")
_ZLIB_HEADER = 0x78
_CHUNK = 1 << 16


def _too_large(limit: int) -> RequestTooLarge:
    return RequestTooLarge(f"The body inflates to more than {limit} bytes.")


def inflate(data: bytes, encoding: str, limit: int) -> bytes | bytearray:
    """`data` decoded by `encoding` (one of ENCODINGS, or "" for none)."""
    if not encoding:
        return data
    if encoding == "gzip":
        return gunzip(data, limit)
    if encoding == "deflate":
        return _inflate_deflate(data, limit)
    if encoding == "br":
        return _inflate_brotli(data, limit)
    return _inflate_zstd(data, limit)


def _inflate_deflate(data: bytes, limit: int) -> bytes:
    # "deflate" is zlib-wrapped by the RFC, raw in many clients: the first byte tells which.
    wbits = 15 if data[:1] and data[0] == _ZLIB_HEADER else -15
    inflater = zlib.decompressobj(wbits=wbits)
    try:
        out = inflater.decompress(data, limit + 1)
    except zlib.error as error:
        raise InvalidPayload(f"The deflate body is corrupt: {error}.") from error
    if len(out) > limit:
        raise _too_large(limit)
    if not inflater.eof:
        raise InvalidPayload("The deflate body is truncated.")
    return out


def _inflate_brotli(data: bytes, limit: int) -> bytes:
    # Imported here: only br bodies need it, and it is a compiled module.
    import brotli  # noqa: PLC0415

    decompressor = brotli.Decompressor()
    out = bytearray()
    pending = data
    try:
        # Each round yields up to a chunk; a stream that yields nothing twice has ended or broken.
        while True:
            chunk = decompressor.process(pending, output_buffer_limit=_CHUNK)
            pending = b""
            out += chunk
            if len(out) > limit:
                raise _too_large(limit)
            if decompressor.is_finished():
                return bytes(out)
            if not chunk and decompressor.can_accept_more_data():
                # All input given, nothing more comes out, and the stream has not ended.
                raise InvalidPayload("The br body is truncated.")
    except brotli.error as error:
        raise InvalidPayload(f"The br body is corrupt: {error}.") from error


def _inflate_zstd(data: bytes, limit: int) -> bytes:
    import zstandard  # noqa: PLC0415

    try:
        reader = zstandard.ZstdDecompressor().stream_reader(io.BytesIO(data), read_across_frames=True)
        out = reader.read(limit + 1)
    except zstandard.ZstdError as error:
        raise InvalidPayload(f"The zstd body is corrupt: {error}.") from error
    if len(out) > limit:
        raise _too_large(limit)
    return bytes(out)
