"""Property-based tests (hypothesis): every encoding decodes to the same events, and no malformed
body gets anything but a 4xx in the contract's format."""

from __future__ import annotations

import base64
import gzip
import json
import zlib
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import brotli
import zstandard
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support.app import DEMO_TOKEN, CaptureApp, v1_headers
from support.budget import examples
from support.lz import lz64

NOW = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
ERROR_CODES = {
    400: {"invalid_payload", "no_data"},
    401: {"missing_api_key", "invalid_api_key", "inconsistent_api_keys", "project_id_required"},
    413: {"request_too_large", "event_too_large"},
}

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(-(2**53), 2**53)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text()
)
json_values = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)
events = st.fixed_dictionaries(
    {
        "event": st.text(min_size=1, max_size=30),
        "distinct_id": st.text(min_size=1, max_size=40),
        "uuid": st.uuids().map(str),
        # Keys with meaning of their own (docs/protocol.md §4) are tested elsewhere.
        "properties": st.dictionaries(
            st.text(max_size=12).filter(lambda k: k not in {"$set", "$set_once", "distinct_id", "token"}),
            json_values,
            max_size=6,
        ),
    },
    optional={"timestamp": st.integers(1_500_000_000_000, 1_800_000_000_000)},
)


ENCODINGS = {
    "json": lambda raw: ("", {"Content-Type": "application/json"}, raw),
    "gzip_text_plain": lambda raw: ("", {"Content-Type": "text/plain"}, gzip.compress(raw.encode())),
    "gzip_hinted": lambda raw: ("compression=gzip-js", {}, gzip.compress(raw.encode())),
    "base64": lambda raw: ("", {}, base64.b64encode(raw.encode())),
    "form_base64": lambda raw: (
        "",
        {"Content-Type": "application/x-www-form-urlencoded"},
        "data=" + quote(base64.b64encode(raw.encode()).decode()),
    ),
    "form_lz64": lambda raw: (
        "",
        {"Content-Type": "application/x-www-form-urlencoded"},
        "data=" + quote(lz64(raw)) + "&compression=lz64",
    ),
    "query_data": lambda raw: ("data=" + quote(base64.b64encode(raw.encode()).decode()), {}, None),
    "query_lz64": lambda raw: ("compression=lz64&data=" + quote(lz64(raw)), {}, None),
}


def send(app: CaptureApp, encoding: str, payload: Any, path: str = "/e/"):
    query, headers, body = ENCODINGS[encoding](json.dumps(payload, ensure_ascii=False))
    return app.request("GET" if body is None else "POST", path, body, headers=headers, query=query)


@settings(max_examples=examples(150), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(batch=st.lists(events, min_size=1, max_size=5), envelope=st.booleans())
def test_every_encoding_stores_the_same_events(batch: list[dict[str, Any]], envelope: bool):
    payload: Any = (
        {"api_key": DEMO_TOKEN, "batch": batch} if envelope else [{**e, "api_key": DEMO_TOKEN} for e in batch]
    )
    results = {}
    app = CaptureApp(clock=lambda: NOW)
    for encoding in ENCODINGS:
        answer = send(app, encoding, payload)
        assert answer.status == 200, (encoding, answer.body)
        results[encoding] = app.stored()
        app.sink.lines.clear()
    reference = results["json"]
    assert [e["uuid"] for e in reference] == [e["uuid"] for e in batch]
    assert [e["properties"] for e in reference] == [e["properties"] for e in batch]
    for encoding, stored in results.items():
        assert stored == reference, encoding


def is_contract_error(status: int, body: str) -> bool:
    document = json.loads(body)
    return (
        status in ERROR_CODES
        and set(document) == {"type", "code", "detail", "attr"}
        and document["code"] in ERROR_CODES[status]
        and isinstance(document["detail"], str)
        and document["detail"]
    )


def gzipped(data: bytes) -> bytes:
    return gzip.compress(data)


def truncated_gzip(data: bytes) -> bytes:
    packed = gzip.compress(data)
    return packed[: max(2, len(packed) // 2)]


def raw_deflate(data: bytes) -> bytes:
    return zlib.compress(data)


mutators = st.sampled_from([lambda b: b, gzipped, truncated_gzip, raw_deflate, base64.b64encode])
malformed_json = json_values.map(lambda v: json.dumps(v).encode())
near_events = st.dictionaries(
    st.sampled_from(
        ["event", "distinct_id", "uuid", "properties", "timestamp", "offset", "$set", "api_key", "batch"]
    ),
    json_values,
    max_size=6,
).map(lambda d: json.dumps(d).encode())
bodies = st.one_of(
    st.binary(max_size=300), st.text(max_size=200).map(str.encode), malformed_json, near_events
)
content_types = st.sampled_from(
    [
        None,
        "application/json",
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        "multipart/form-data",
    ]
)
queries = st.sampled_from(
    ["", "compression=gzip-js", "compression=lz64", "compression=base64", "data=%%%", "beacon=1"]
)
paths = st.sampled_from(["/e/", "/batch/", "/engage/", "/capture"])


# CI draws the same examples on every run (derandomized): 3,000 of them cover every strategy's
# branches many times over; drawing them (not the requests) is most of this test's time.
@settings(max_examples=examples(3_000), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    body=bodies,
    mutate=mutators,
    content_type=content_types,
    query=queries,
    path=paths,
    prefix=st.sampled_from([b"", b"data="]),
)
def test_malformed_bodies_get_only_contract_4xx(body, mutate, content_type, query, path, prefix):
    headers = {"Content-Type": content_type} if content_type else {}
    answer = APP.request("POST", path, prefix + mutate(body), headers=headers, query=query)
    assert is_contract_error(answer.status, answer.body), (answer.status, answer.body)


APP = CaptureApp(clock=lambda: NOW)


def test_contract_error_check_rejects_other_shapes():
    assert not is_contract_error(
        500, '{"type": "server_error", "code": "internal_error", "detail": "x", "attr": null}'
    )
    assert not is_contract_error(
        400, '{"type": "validation_error", "code": "invalid_api_key", "detail": "x"}'
    )
    assert is_contract_error(
        400, '{"type": "validation_error", "code": "no_data", "detail": "x", "attr": null}'
    )


# Capture v1 stores what v0 stores (docs/protocol.md §11: "stored exactly like a v0 event").

V1_ENCODINGS = {
    "none": lambda data: data,
    "gzip": gzip.compress,
    "deflate": zlib.compress,
    "br": brotli.compress,
    "zstd": lambda data: zstandard.ZstdCompressor().compress(data),
}
SENT_AT = "2026-05-01T11:59:58.000Z"
v1_events = st.fixed_dictionaries(
    {
        "event": st.text(min_size=1, max_size=30).filter(lambda name: len(name.encode()) <= 200),
        "distinct_id": st.text(min_size=1, max_size=40).filter(lambda d: d.strip() == d and d),
        "uuid": st.uuids().map(str),
        "timestamp": st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2030, 1, 1)).map(
            lambda moment: moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
        ),
        "properties": st.dictionaries(
            st.text(max_size=12).filter(
                lambda k: k not in {"$set", "$set_once", "distinct_id", "token", "$lib"}
            ),
            json_values,
            max_size=6,
        ),
    }
)


@settings(max_examples=examples(60), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(batch=st.lists(v1_events, min_size=1, max_size=5, unique_by=lambda e: e["uuid"]))
def test_any_valid_v1_batch_in_any_encoding_stores_what_v0_stores(batch: list[dict[str, Any]]):
    lib = {"$lib": "posthog-python", "$lib_version": "7.91.1"}
    v0 = CaptureApp(clock=lambda: NOW)
    envelope = {"api_key": DEMO_TOKEN, "sent_at": SENT_AT, "batch": [
        {**event, "properties": {**event["properties"], **lib}} for event in batch
    ]}  # fmt: skip
    assert v0.request("POST", "/batch/", json.dumps(envelope)).status == 200
    headers = v1_headers(SENT_AT, request_id="0193a1b2-0000-7000-8000-00000000dddd")
    body = json.dumps({"created_at": SENT_AT, "batch": batch}).encode()
    v1 = CaptureApp(clock=lambda: NOW)
    for encoding, compress in V1_ENCODINGS.items():
        v1.sink.lines.clear()
        encoded = {**headers, "Content-Encoding": encoding} if encoding != "none" else headers
        answer = v1.request("POST", "/i/v1/analytics/events", compress(body), headers=encoded)
        assert answer.status == 200, (encoding, answer.body)
        assert {result["result"] for result in answer.json()["results"].values()} == {"ok"}
        assert v1.stored() == v0.stored(), encoding
