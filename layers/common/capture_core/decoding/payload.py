"""Request decoding (docs/protocol.md §2): from transport bytes to the JSON payload, whatever the SDK sent.

PostHog clients have sent the same events in many wrappings over the years: plain JSON, gzip (with
or without a hint, sometimes as text/plain), base64, lz-string, form fields, query strings. Every
step here is tolerant of the wrappings real clients produce and strict about sizes.
"""

from __future__ import annotations

import base64
import binascii
import re
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from capture_core import json_codec
from capture_core.decoding import lz_string
from capture_core.decoding.multipart import multipart_fields
from capture_core.errors import InvalidPayload, NoData, RequestTooLarge

GZIP_MAGIC = b"\x1f\x8b"
FORM_FIELDS = ("data", "compression", "api_key", "token")
_BASE64 = re.compile(rb"[A-Za-z0-9+/]+={0,2}")
_BASE64_WITH_SPACES = re.compile(rb"[A-Za-z0-9+/ ]+={0,2}")
_COMPRESSION_ALIASES = {
    "gzip": "gzip",
    "gzip-js": "gzip",
    "lz64": "lz-string",
    "lz-string": "lz-string",
    "base64": "base64",
    "b64": "base64",
}


@dataclass(frozen=True, slots=True)
class DecodedPayload:
    """The parsed JSON payload and the form fields that came beside it (`auth` reads the keys)."""

    data: Any
    form: Mapping[str, bytes] = field(default_factory=dict)


def decode_payload(
    query: Mapping[str, str],
    headers: Mapping[str, str],
    body: bytes,
    *,
    max_payload_bytes: int,
    parse_budget_bytes: int,
) -> DecodedPayload:
    """Decode a request's payload. `headers` must be keyed by lower-case names."""
    form: dict[str, bytes] = {}
    query_data = query.get("data")
    if query_data:
        # API Gateway decodes a query's unescaped "+" as a space, as a form parser does.
        raw = _repair_form_base64(query_data.encode("utf-8"))
    elif body:
        media_type = _media_type(headers.get("content-type", ""))
        if media_type == "multipart/form-data":
            form = multipart_fields(body, headers.get("content-type", ""), FORM_FIELDS)
        elif (media_type == "application/x-www-form-urlencoded" and not body.startswith(GZIP_MAGIC)) or (
            body.startswith(b"data=")
        ):
            # Beacons post `data=...` with whatever Content-Type the browser picked; and `curl -d`
            # labels a plain JSON body as a form, so a form without a `data` field is the raw body.
            form = _urlencoded_fields(body)
            if "data" not in form:
                form = {}
        if form or media_type == "multipart/form-data":
            if not form.get("data"):
                raise NoData("The form has no `data` field with the events.", attr="data")
            raw = _repair_form_base64(form["data"])
        else:
            raw = body
    else:
        raise NoData("The request has no payload: send events in the body or the `data` query parameter.")

    hint = _compression_hint(
        query.get("compression") or _text(form.get("compression")) or headers.get("content-encoding")
    )
    data = _decompress(raw, hint, max_payload_bytes)
    json_codec.check_budget(data, parse_budget_bytes)
    return DecodedPayload(data=json_codec.loads(data), form=form)


def _text(value: bytes | None) -> str | None:
    return value.decode("utf-8", errors="replace") if value else None


def _media_type(content_type: str) -> str:
    return content_type.split(";", 1)[0].strip().lower()


def _compression_hint(value: str | None) -> str | None:
    # Unknown hints are ignored, never an error: SDKs have sent values this API does not know.
    return _COMPRESSION_ALIASES.get(value.strip().lower()) if value else None


def _urlencoded_fields(body: bytes) -> dict[str, bytes]:
    # Latin-1 maps bytes to characters one to one: field values come back as the bytes that were
    # sent, so a percent-encoded binary `data` (gzip) survives.
    text = body.decode("latin-1")
    return {
        key: value.encode("latin-1")
        for key, value in parse_qsl(text, keep_blank_values=True, encoding="latin-1")
        if key in FORM_FIELDS
    }


def _repair_form_base64(value: bytes) -> bytes:
    # A `+` sent unescaped in a form or query arrives as a space; base64 has no spaces: put it back.
    if b" " in value and _BASE64_WITH_SPACES.fullmatch(value.strip()):
        return value.strip().replace(b" ", b"+")
    return value


def _decompress(raw: bytes, hint: str | None, limit: int) -> bytes | bytearray | str:
    data: bytes | bytearray | str = raw
    if raw.startswith(GZIP_MAGIC):
        # Magic bytes win over hints: posthog-js sends gzip as text/plain with no other hint.
        data = gunzip(raw, limit)
    elif hint == "lz-string":
        data = lz_string_decompress(raw, limit)
    elif hint == "base64":
        data = _base64_decode(raw) or raw
        if data.startswith(GZIP_MAGIC):
            data = gunzip(data, limit)
    # A gzip hint on bytes that are not gzip: a proxy inflated them already; fall through.
    if _looks_like_json(data):
        return data
    decoded = _base64_decode(data)
    if decoded is None:
        return data
    return gunzip(decoded, limit) if decoded.startswith(GZIP_MAGIC) else decoded


def gunzip(data: bytes, limit: int) -> bytearray:
    """Inflate gzip data (one or more members) without ever holding more than `limit` + 1 bytes."""
    out = bytearray()
    pending = data
    while pending.startswith(GZIP_MAGIC):
        inflater = zlib.decompressobj(wbits=31)
        while pending and not inflater.eof:
            try:
                out += inflater.decompress(pending, limit + 1 - len(out))
            except zlib.error as error:
                raise InvalidPayload(f"The gzip data is corrupt: {error}.") from error
            if len(out) > limit:
                raise RequestTooLarge(f"The payload inflates to more than {limit} bytes.")
            pending = inflater.unconsumed_tail
        if not inflater.eof:
            raise InvalidPayload("The gzip data is truncated.")
        pending = inflater.unused_data
    return out


def lz_string_decompress(raw: bytes, limit: int) -> str:
    """lz-string `decompressFromBase64`, as posthog-js's old `compression=lz64` sends it."""
    # A "+" sent unescaped in a form or query arrives as a space; lz-string's alphabet has none.
    text = raw.decode("ascii", errors="replace").strip().replace(" ", "+")
    try:
        result = lz_string.decompress_from_base64(text, limit)
    except lz_string.OutputTooLarge as error:
        raise RequestTooLarge(f"The payload decompresses to more than {limit} characters.") from error
    if not result:
        raise InvalidPayload("The lz-string data is corrupt or empty.")
    # lz-string works on UTF-16 code units: astral characters come out as surrogate pairs.
    return result.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")


def _looks_like_json(data: bytes | bytearray | str) -> bool:
    head = data[:64].lstrip()
    if isinstance(head, str):
        return head[:1] in ("{", "[")
    return head[:1] in (b"{", b"[")


def _base64_decode(data: bytes | bytearray | str) -> bytes | None:
    """Decode `data` if it looks like standard base64 (padding optional), else None."""
    compact = (data.encode("ascii", errors="replace") if isinstance(data, str) else bytes(data)).strip()
    compact = compact.replace(b"\n", b"").replace(b"\r", b"")
    if not compact or not _BASE64.fullmatch(compact):
        return None
    try:
        return base64.b64decode(compact + b"=" * (-len(compact) % 4))
    except binascii.Error:
        return None
