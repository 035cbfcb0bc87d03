"""docs/protocol.md §2: every wrapping a PostHog client uses decodes to the same payload."""

from __future__ import annotations

import base64
import gzip
import json
from urllib.parse import quote

import pytest
from capture_core.decoding.payload import decode_payload, gunzip
from capture_core.errors import InvalidPayload, NoData, RequestTooLarge
from capture_core.json_codec import loads
from support.lz import lz64

EVENT = {"event": "clicked", "distinct_id": "u1", "properties": {"emoji": "🦔", "n": 1}}
RAW = json.dumps(EVENT, ensure_ascii=False).encode()
LIMIT = 1 << 20


def decode(body: bytes = b"", *, query: dict[str, str] | None = None, headers: dict[str, str] | None = None):
    return decode_payload(
        query or {}, headers or {}, body, max_payload_bytes=LIMIT, parse_budget_bytes=64 * LIMIT
    )


def test_plain_json_body():
    assert decode(RAW).data == EVENT


def test_gzip_detected_by_magic_bytes_without_any_hint():
    assert decode(gzip.compress(RAW), headers={"content-type": "text/plain"}).data == EVENT


def test_gzip_hint_on_already_inflated_bytes_falls_through():
    assert decode(RAW, query={"compression": "gzip-js"}).data == EVENT


def test_content_encoding_gzip_header():
    assert decode(gzip.compress(RAW), headers={"content-encoding": "GZIP"}).data == EVENT


def test_base64_body_without_hint():
    assert decode(base64.b64encode(RAW)).data == EVENT


def test_base64_without_padding():
    assert decode(base64.b64encode(RAW).rstrip(b"=")).data == EVENT


def test_base64_of_gzip_is_inflated():
    assert decode(base64.b64encode(gzip.compress(RAW))).data == EVENT


def test_query_data_wins_over_body():
    assert decode(b'{"event": "ignored"}', query={"data": base64.b64encode(RAW).decode()}).data == EVENT


def test_form_data_field_with_compression_field():
    body = f"data={quote(lz64(RAW.decode()))}&compression=lz64".encode()
    assert decode(body, headers={"content-type": "application/x-www-form-urlencoded"}).data == EVENT


def test_form_base64_with_plus_turned_into_spaces_is_repaired():
    encoded = base64.b64encode(json.dumps({**EVENT, "pad": "ÿÿ>>"}, ensure_ascii=False).encode()).decode()
    assert "+" in encoded
    body = f"data={encoded}".encode()  # an unescaped "+" in a form reads as a space
    assert decode(body, headers={"content-type": "application/x-www-form-urlencoded"}).data["pad"] == "ÿÿ>>"


def test_beacon_body_starting_with_data_is_a_form_whatever_the_content_type():
    body = b"data=" + quote(base64.b64encode(RAW).decode()).encode()
    assert decode(body, headers={"content-type": "text/plain;charset=UTF-8"}).data == EVENT


def test_form_fields_carry_the_token():
    body = b"data=" + quote(json.dumps(EVENT)).encode() + b"&api_key=phc_form"
    decoded = decode(body, headers={"content-type": "application/x-www-form-urlencoded"})
    assert decoded.form["api_key"] == b"phc_form"


def test_json_labelled_as_a_form_is_read_as_json():
    # curl -d sends JSON with Content-Type application/x-www-form-urlencoded.
    assert decode(RAW, headers={"content-type": "application/x-www-form-urlencoded"}).data == EVENT


def test_multipart_form_fields():
    boundary = "XyZ"
    body = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="data"\r\n\r\n{lz64(RAW.decode())}\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="compression"\r\n\r\nlz64\r\n'
        f"--{boundary}--\r\n"
    ).encode()
    headers = {"content-type": f"multipart/form-data; boundary={boundary}"}
    assert decode(body, headers=headers).data == EVENT


def test_lz_string_repairs_astral_characters():
    assert (
        decode(lz64(RAW.decode()).encode(), query={"compression": "lz64"}).data["properties"]["emoji"] == "🦔"
    )


def test_lz_string_with_spaces_for_plus():
    text = json.dumps({**EVENT, "filler": "x" * 300 + "ÿ" * 50}, ensure_ascii=False)
    compressed = lz64(text)
    assert "+" in compressed
    decoded = decode(compressed.replace("+", " ").encode(), query={"compression": "lz-string"})
    assert decoded.data["filler"].endswith("ÿ")


def test_unknown_compression_hint_is_ignored():
    assert decode(RAW, query={"compression": "brotli-9000"}).data == EVENT


def test_nan_and_infinity_become_null():
    assert loads(b'{"a": NaN, "b": Infinity, "c": -Infinity}') == {"a": None, "b": None, "c": None}


def test_invalid_utf8_is_400():
    with pytest.raises(InvalidPayload, match="UTF-8"):
        decode(b'{"event": "\xff\xfe"}')


def test_invalid_json_is_400():
    with pytest.raises(InvalidPayload, match="not valid JSON"):
        decode(b'{"event": ')


def test_deep_nesting_is_400_not_a_crash():
    with pytest.raises(InvalidPayload):
        decode(b"[" * 100_000)


def test_no_body_and_no_query_data_is_no_data():
    with pytest.raises(NoData):
        decode(b"")


def test_empty_form_data_field_is_no_data():
    with pytest.raises(NoData):
        decode(b"data=", headers={"content-type": "application/x-www-form-urlencoded"})


def test_gzip_bomb_is_413_in_bounded_memory():
    bomb = gzip.compress(b"[" + b" " * (LIMIT * 4) + b"]")
    with pytest.raises(RequestTooLarge):
        decode(bomb)


def test_corrupt_gzip_is_400():
    with pytest.raises(InvalidPayload, match="gzip"):
        decode(b"\x1f\x8b\x08\x00garbage")


def test_truncated_gzip_is_400():
    with pytest.raises(InvalidPayload, match="truncated"):
        decode(gzip.compress(RAW)[:-10])


def test_concatenated_gzip_members_are_read_whole():
    assert gunzip(gzip.compress(b"[1,") + gzip.compress(b"2]"), LIMIT) == b"[1,2]"


def test_lz_string_bomb_is_413():
    bomb = lz64("a" * (LIMIT * 2))
    assert len(bomb) < LIMIT // 100
    with pytest.raises(RequestTooLarge):
        decode(bomb.encode(), query={"compression": "lz64"})


@pytest.mark.parametrize("garbage", ["!!!!", "AAAA", "N4Ig", "="])
def test_corrupt_lz_string_is_400(garbage: str):
    with pytest.raises(InvalidPayload):
        decode(garbage.encode(), query={"compression": "lz64"})
