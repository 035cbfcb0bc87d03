"""The HTTP surface through the resolver, beyond the golden corpus's one case per contract row: CORS,
status codes, error bodies, hostile inputs (docs/protocol.md §1, §7)."""

from __future__ import annotations

import gzip
import json

import pytest
from support.app import DEMO_TOKEN, CaptureApp
from support.fakes import FakeKeyTable

EVENT = {"api_key": DEMO_TOKEN, "event": "clicked", "distinct_id": "u1"}


@pytest.fixture
def app() -> CaptureApp:
    return CaptureApp()


def test_preflight_mirrors_origin_and_requested_headers(app: CaptureApp):
    answer = app.request(
        "OPTIONS",
        "/e/",
        headers={
            "Origin": "https://shop.example",
            "Access-Control-Request-Headers": "content-type, x-custom",
        },
    )
    assert answer.status == 200
    assert answer.headers["Access-Control-Allow-Origin"] == "https://shop.example"
    assert answer.headers["Access-Control-Allow-Methods"] == "GET, POST, OPTIONS"
    assert answer.headers["Access-Control-Allow-Headers"] == "content-type, x-custom"
    assert app.stored() == []


def test_without_origin_cors_allows_any(app: CaptureApp):
    assert app.request("POST", "/capture/", json.dumps(EVENT)).headers["Access-Control-Allow-Origin"] == "*"


def test_invalid_event_names_it_and_stores_nothing(app: CaptureApp):
    body = json.dumps(
        {"api_key": DEMO_TOKEN, "batch": [{"event": "ok", "distinct_id": "u"}, {"event": "bad"}]}
    )
    answer = app.request("POST", "/batch/", body)
    assert (answer.status, answer.json()["attr"]) == (400, "batch[1].distinct_id")
    assert "distinct_id" in answer.json()["detail"]
    assert app.stored() == []


def test_oversized_event_is_413_naming_it_and_nothing_is_sent(app: CaptureApp):
    big = {**EVENT, "properties": {"blob": "x" * 1_100_000}}
    answer = app.request("POST", "/batch/", json.dumps({"api_key": DEMO_TOKEN, "batch": [EVENT, big]}))
    assert (answer.status, answer.json()["code"], answer.json()["attr"]) == (
        413,
        "event_too_large",
        "batch[1]",
    )
    assert app.stored() == []


def test_stored_event_carries_project_and_caller_ip(app: CaptureApp):
    app.request("POST", "/capture/", json.dumps(EVENT), source_ip="203.0.113.5")
    event = app.stored()[0]
    assert (event["project_id"], event["token"], event["ip"]) == (1, DEMO_TOKEN, "203.0.113.5")


def test_left_most_forwarded_for_is_the_ip(app: CaptureApp):
    app.request("POST", "/capture/", json.dumps(EVENT), headers={"X-Forwarded-For": "192.0.2.1, 10.0.0.1"})
    assert app.stored()[0]["ip"] == "192.0.2.1"


class DownSink:
    """Neither Firehose nor S3 takes anything."""

    def send(self, lines, deadline):
        return list(range(len(lines)))


def test_undeliverable_events_are_503_with_retry_after():
    answer = CaptureApp(sink=DownSink()).request("POST", "/capture/", json.dumps(EVENT))
    assert (answer.status, answer.json()["code"]) == (503, "sink_unavailable")
    assert int(answer.headers["Retry-After"]) > 0


class BrokenSink:
    def send(self, lines, deadline):
        raise RuntimeError("bug with secret internals")


def test_unexpected_errors_are_500_without_internals():
    answer = CaptureApp(sink=BrokenSink()).request("POST", "/capture/", json.dumps(EVENT))
    assert (answer.status, answer.json()["code"]) == (500, "internal_error")
    assert "secret" not in answer.body


def test_personal_key_with_project_id_stores_the_projects_token():
    app = CaptureApp()
    app.table.add_personal_key("phx_admin", [1])
    body = {"api_key": "phx_admin", "project_id": 1, "batch": [{"event": "e", "distinct_id": "u"}]}
    assert app.request("POST", "/batch/", json.dumps(body)).status == 200
    assert (app.stored()[0]["token"], app.stored()[0]["project_id"]) == (DEMO_TOKEN, 1)


@pytest.mark.parametrize(
    ("where", "code"),
    [("nowhere", "project_id_required"), ("query", "invalid_api_key"), ("event", "invalid_api_key")],
)
def test_personal_key_project_id_sources(where: str, code: str):
    app = CaptureApp()
    app.table.add_personal_key("phx_admin", [1])
    event = {
        "event": "e",
        "distinct_id": "u",
        "api_key": "phx_admin",
        **({"project_id": 2} if where == "event" else {}),
    }
    answer = app.request(
        "POST", "/capture/", json.dumps(event), query="project_id=2" if where == "query" else ""
    )
    assert (answer.status, answer.json()["code"]) == (401, code)


def test_anonymized_project_stores_no_ip():
    from support.fakes import FakeKeyTable

    app = CaptureApp(table=FakeKeyTable.with_project(DEMO_TOKEN, 1, anonymize_ips=True))
    assert app.request("POST", "/capture/", json.dumps(EVENT), source_ip="203.0.113.5").status == 200
    assert app.stored()[0]["ip"] is None


@pytest.mark.parametrize(
    ("distinct_id", "stored"),
    [
        # NaN sends the payload through the standard library's parser, which keeps big integers.
        ("123456789012345678901234567890", "123456789012345678901234567890"),
        # An object holding a lone surrogate: stored as U+FFFD, since strict parsers refuse it.
        ('{"id": "\\ud800"}', '{"id":"\ufffd"}'),
    ],
)
def test_values_orjson_refuses_are_still_stored(app: CaptureApp, distinct_id: str, stored: str):
    body = (
        f'{{"api_key": "{DEMO_TOKEN}", "event": "e", "distinct_id": {distinct_id}, '
        f'"properties": {{"n": {distinct_id}, "x": NaN}}}}'
    )
    answer = app.request("POST", "/capture/", body)
    assert answer.status == 200
    assert app.stored()[0]["distinct_id"] == stored


def test_sent_at_at_the_edge_of_time_is_harmless(app: CaptureApp):
    body = {
        "api_key": DEMO_TOKEN,
        "sent_at": "0001-01-01T00:00:00Z",
        "batch": [{"event": "e", "distinct_id": "u"}],
    }
    assert app.request("POST", "/batch/", json.dumps(body)).status == 200


# Inputs found by review: each once gave a 500, stored too much, or broke a contract rule.


def envelope(**fields: object) -> str:
    return json.dumps({"api_key": DEMO_TOKEN, "batch": [{"event": "e", "distinct_id": "d", **fields}]})


def single_event_with(properties_json: str) -> str:
    return f'{{"api_key": "{DEMO_TOKEN}", "event": "e", "distinct_id": "d", "properties": {properties_json}}}'


def test_an_integer_of_thousands_of_digits_is_400(app: CaptureApp):
    assert app.request("POST", "/capture/", single_event_with('{"x": ' + "1" * 5000 + "}")).status == 400


@pytest.mark.parametrize("depth", [300, 985, 5000])
def test_deep_nesting_is_400_or_stored_never_500(app: CaptureApp, depth: int):
    nested = "[" * depth + "1" + "]" * depth
    assert app.request("POST", "/capture/", single_event_with('{"x": ' + nested + "}")).status in {200, 400}


@pytest.mark.parametrize(
    ("content_type", "part_header"),
    [
        ("multipart/form-data; boundary=B; x*", 'Content-Disposition: form-data; name="data"'),
        ("multipart/form-data; boundary=B", 'Content-Disposition: form-data; name="data"; x*'),
    ],
)
def test_odd_multipart_header_options_are_ignored(app: CaptureApp, content_type: str, part_header: str):
    body = f"--B\r\n{part_header}\r\n\r\n{json.dumps(EVENT)}\r\n--B--\r\n"
    assert app.request("POST", "/capture/", body, headers={"Content-Type": content_type}).status == 200
    assert app.stored()[0]["distinct_id"] == EVENT["distinct_id"]


def multipart_body(*parts: tuple[str, str]) -> str:
    return "".join(f"--B\r\n{headers}\r\n\r\n{content}\r\n" for headers, content in parts) + "--B--\r\n"


NESTED_HEADERS = 'Content-Disposition: form-data; name="data"\r\nContent-Type: multipart/mixed; boundary=b0'


def nested_multipart(depth: int) -> str:
    inner = json.dumps(EVENT)
    for level in reversed(range(depth)):
        headers = f"Content-Type: multipart/mixed; boundary=b{level + 1}"
        inner = f"--b{level}\r\n{headers}\r\n\r\n{inner}\r\n--b{level}--"
    return inner


DATA_PART = ('Content-Disposition: form-data; name="data"', json.dumps(EVENT))


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        # Thousands of tiny parts: refused once past the parts limit, not parsed one by one.
        (
            multipart_body(*[('Content-Disposition: form-data; name="x"', "")] * 22_000, DATA_PART),
            413,
            "request_too_large",
        ),
        # A part header of 32 KB of ";", and one of 9,400 RFC 2047 encoded words.
        (
            multipart_body(('Content-Disposition: form-data; name="data"' + ";" * 32_768, "{}")),
            413,
            "request_too_large",
        ),
        (
            multipart_body(
                ('Content-Disposition: form-data; name="data"; x="' + "=?utf-8?q?a?= " * 9_400 + '"', "{}")
            ),
            413,
            "request_too_large",
        ),
        # 3,000 nested "(" in a part header: not parsed as a MIME comment, so no recursion.
        (
            multipart_body(
                ('Content-Disposition: form-data; name="data"; x="' + "(" * 3_000 + '"', json.dumps(EVENT))
            ),
            200,
            None,
        ),
        # 1,000 nested multipart levels: a part's content is bytes, never parsed as MIME again.
        (
            multipart_body((NESTED_HEADERS, nested_multipart(1_000))),
            400,
            "invalid_payload",
        ),
    ],
    ids=["22000-parts", "32k-semicolons", "encoded-words", "nested-comments", "nested-multipart"],
)
def test_hostile_multipart_bodies_are_bounded(app: CaptureApp, body: str, status: int, code: str | None):
    answer = app.request(
        "POST", "/capture/", body, headers={"Content-Type": "multipart/form-data; boundary=B"}
    )
    assert answer.status == status
    if code:
        assert answer.json()["code"] == code


def test_a_forwarded_for_that_is_not_an_address_is_ignored(app: CaptureApp):
    app.request(
        "POST",
        "/capture/",
        json.dumps(EVENT),
        headers={"X-Forwarded-For": "x" * 8000},
        source_ip="203.0.113.8",
    )
    assert app.stored()[0]["ip"] == "203.0.113.8"


def test_tiny_events_that_would_inflate_past_the_stored_limit_are_413():
    from capture_core.settings import Settings

    app = CaptureApp(settings=Settings(max_stored_bytes=100_000))
    body = gzip.compress(
        json.dumps({"api_key": DEMO_TOKEN, "batch": [{"event": "e", "distinct_id": 1}] * 2000}).encode()
    )
    answer = app.request("POST", "/batch/", body)
    assert (answer.status, answer.json()["code"]) == (413, "request_too_large")
    assert app.stored() == []


def test_base64_hint_on_base64_of_gzip(app: CaptureApp):
    import base64

    body = base64.b64encode(gzip.compress(json.dumps(EVENT).encode()))
    assert app.request("POST", "/capture/", body, query="compression=base64").status == 200


def test_gzip_in_form_fields_survives(app: CaptureApp):
    from urllib.parse import quote_from_bytes

    packed = gzip.compress(json.dumps(EVENT).encode())
    form = b"data=" + quote_from_bytes(packed).encode()
    assert (
        app.request("POST", "/e/", form, headers={"Content-Type": "application/x-www-form-urlencoded"}).status
        == 200
    )
    multipart = (
        b'--B\r\nContent-Disposition: form-data; name="data"; filename="blob"\r\n'
        b"Content-Type: application/octet-stream\r\n\r\n" + packed + b"\r\n--B--\r\n"
    )
    headers = {"Content-Type": "multipart/form-data; boundary=B"}
    assert app.request("POST", "/e/", multipart, headers=headers).status == 200
    assert len(app.stored()) == 2


def test_envelope_null_api_key_falls_back_to_token(app: CaptureApp):
    body = json.dumps({"api_key": None, "token": DEMO_TOKEN, "batch": [{"event": "e", "distinct_id": "d"}]})
    assert app.request("POST", "/batch/", body).status == 200


def test_events_disagreeing_on_their_key_are_401_even_under_an_envelope_key(app: CaptureApp):
    events = [{"event": "e", "distinct_id": "d", "api_key": key} for key in ("phc_a", "phc_b")]
    answer = app.request("POST", "/batch/", json.dumps({"api_key": DEMO_TOKEN, "batch": events}))
    assert (answer.status, answer.json()["code"]) == (401, "inconsistent_api_keys")


@pytest.mark.parametrize(
    "value",
    [
        "+2345678123456781234567812345678",
        "1_345678123456781234567812345678",
        "١2345678123456781234567812345678",
    ],
)
def test_strings_that_only_int_would_read_as_hex_are_not_uuids(app: CaptureApp, value: str):
    assert app.request("POST", "/batch/", envelope(uuid=value)).json()["attr"] == "batch[0].uuid"


def test_lower_case_rfc3339_timestamps(app: CaptureApp):
    assert app.request("POST", "/batch/", envelope(timestamp="2026-01-15t09:59:58z")).status == 200
    assert app.stored()[0]["client_timestamp"] == "2026-01-15T09:59:58.000Z"


def test_a_sent_at_too_far_off_to_correct_with_keeps_the_client_timestamp(app: CaptureApp):
    body = json.loads(envelope(timestamp="2026-01-15T09:59:58.000Z"))
    body["sent_at"] = "9999-01-01T00:00:00Z"
    assert app.request("POST", "/batch/", json.dumps(body)).status == 200
    assert app.stored()[0]["timestamp"] == "2026-01-15T09:59:58.000Z"


def test_a_body_over_the_request_limit_is_413_before_it_is_read():
    from capture_core.settings import Settings

    app = CaptureApp(settings=Settings(max_request_bytes=1_000))
    answer = app.request("POST", "/batch/", json.dumps({**EVENT, "properties": {"pad": "x" * 2_000}}))
    assert (answer.status, answer.json()["code"]) == (413, "request_too_large")


# CORS values are reflected only when they are what browsers send.


@pytest.mark.parametrize(
    "origin",
    [
        "https://shop.example.com\r\nSet-Cookie: a=b",
        "https://a.example\n",
        "javascript:alert(1) x",
        "x" * 400,
    ],
)
def test_an_origin_that_is_not_an_origin_is_never_reflected(app: CaptureApp, origin: str):
    answer = app.request("POST", "/capture/", json.dumps(EVENT), headers={"Origin": origin})
    assert answer.headers["Access-Control-Allow-Origin"] == "*"


@pytest.mark.parametrize("origin", ["https://shop.example.com", "http://localhost:3000", "null"])
def test_a_real_origin_is_mirrored(app: CaptureApp, origin: str):
    answer = app.request("POST", "/capture/", json.dumps(EVENT), headers={"Origin": origin})
    assert (
        answer.headers["Access-Control-Allow-Origin"],
        answer.headers["Access-Control-Allow-Credentials"],
    ) == (
        origin,
        "true",
    )


def test_preflight_never_reflects_a_header_list_with_line_breaks(app: CaptureApp):
    answer = app.request(
        "OPTIONS",
        "/e/",
        headers={"Origin": "https://a.example", "Access-Control-Request-Headers": "a\r\nx: y"},
    )
    assert "Access-Control-Allow-Headers" not in answer.headers


# Keys: a client's string never stands for another kind of table item (the issue that accepted
# `project#<id>` as an API key), through the whole request path.


def test_a_project_record_id_sent_as_api_key_is_refused_after_personal_key_writes():
    table = FakeKeyTable.with_project(DEMO_TOKEN, 1)
    table.add_personal_key("phx_ops", [1])
    app = CaptureApp(table=table)
    personal = {"api_key": "phx_ops", "project_id": 1, "event": "e", "distinct_id": "u"}
    assert app.request("POST", "/capture/", json.dumps(personal)).status == 200
    forged = {"api_key": "project#1", "event": "e", "distinct_id": "u"}
    answer = app.request("POST", "/capture/", json.dumps(forged))
    assert (answer.status, answer.json()["code"]) == (401, "invalid_api_key")
    assert len(app.stored()) == 1


@pytest.mark.parametrize("forged", ["project#1", "phx#" + "0" * 64])
def test_forged_item_ids_do_not_lock_out_personal_key_writes(forged: str):
    table = FakeKeyTable.with_project(DEMO_TOKEN, 1)
    table.add_personal_key("phx_ops", [1])
    app = CaptureApp(table=table)
    assert (
        app.request(
            "POST", "/capture/", json.dumps({"api_key": forged, "event": "e", "distinct_id": "u"})
        ).status
        == 401
    )
    personal = {"api_key": "phx_ops", "project_id": 1, "event": "e", "distinct_id": "u"}
    assert app.request("POST", "/capture/", json.dumps(personal)).status == 200


def test_any_personal_key_without_project_id_is_told_to_send_one():
    app = CaptureApp()
    for key in ("phx_unknown", "phx_" + "x" * 40):
        answer = app.request(
            "POST", "/capture/", json.dumps({"api_key": key, "event": "e", "distinct_id": "u"})
        )
        assert (answer.status, answer.json()["code"]) == (401, "project_id_required")
    assert app.table.get_item_calls == 0


def test_a_forwarded_address_longer_than_any_ip_is_not_stored(app: CaptureApp):
    # Python reads "fe80::1%<anything>" as an address with a scope: only the length bounds it.
    forwarded = "fe80::1%" + "x" * 200
    app.request("POST", "/capture/", json.dumps(EVENT), headers={"X-Forwarded-For": forwarded})
    assert app.stored()[0]["ip"] == "198.51.100.7"
