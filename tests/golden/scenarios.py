"""The golden corpus's requests, one per row of the contract and per SDK request shape.

Each scenario states by hand what it must produce (status, error code and attr, and for each stored
event the fields that matter to it); `record.py` checks those against the code, then writes the
case file with the complete answer and stored events, which `test_golden.py` replays strictly.
"""

from __future__ import annotations

import base64
import gzip
import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from support.lz import lz64

TOKEN = "phc_golden_token"
PROJECT_ID = 42
# A second project, with session recording on.
RECORDING_TOKEN = "phc_golden_recordings"
RECORDING_PROJECT_ID = 43
NOW = "2026-01-15T10:00:00.000Z"
TS = "2026-01-15T09:59:58.500Z"
# Client UUIDs are version 4, so a version 7 in the output is one the server made.
UUID_A = "6f1c2b4e-5c3e-4a1b-8f00-00000000000a"
UUID_B = "6f1c2b4e-5c3e-4a1b-8f00-00000000000b"

JS_HEADERS = {
    "Origin": "https://shop.example",
    "User-Agent": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/131.0 Safari/537.36",
}


def gz(data: bytes) -> bytes:
    return gzip.compress(data, mtime=0)  # a fixed header, so re-recording changes no case file


def j(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False).encode()


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def event(name: str = "clicked", **fields: Any) -> dict[str, Any]:
    return {"event": name, "distinct_id": "user-1", "uuid": UUID_A, "timestamp": TS, **fields}


def js_event(name: str, uuid: str, **properties: Any) -> dict[str, Any]:
    return {
        "event": name,
        "uuid": uuid,
        "timestamp": TS,
        "properties": {
            "$lib": "web",
            "$lib_version": "1.200.0",
            "distinct_id": "0191e2b4-anon",
            "token": TOKEN,
            "$current_url": "https://shop.example/cart",
            **properties,
        },
    }


@dataclass
class Scenario:
    name: str
    covers: str
    method: str = "POST"
    path: str = "/capture/"
    query: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes | None = None
    status: int = 200
    code: str | None = None
    attr: str | None = None
    events: list[dict[str, Any]] = field(default_factory=list)  # expected fields of each stored event
    answer: dict[str, Any] = field(default_factory=dict)  # expected fields of a JSON answer


def ok(name: str, covers: str, body: Any, events: list[dict[str, Any]], **request: Any) -> Scenario:
    raw = body if isinstance(body, bytes) or body is None else j(body)
    return Scenario(name, covers, body=raw, events=events, **request)


def rejected(
    name: str, covers: str, body: Any, status: int, code: str, attr: str | None = None, **request: Any
):
    raw = body if isinstance(body, bytes) or body is None else j(body)
    return Scenario(name, covers, body=raw, status=status, code=code, attr=attr, **request)


ONE = {**event(), "api_key": TOKEN}
ONE_STORED = [
    {"event": "clicked", "distinct_id": "user-1", "uuid": UUID_A, "project_id": PROJECT_ID, "token": TOKEN}
]
JS_BATCH = [js_event("$pageview", UUID_A), js_event("added_to_cart", UUID_B, item="socks")]
JS_STORED = [
    {
        "event": "$pageview",
        "uuid": UUID_A,
        "distinct_id": "0191e2b4-anon",
        "lib": "web",
        "lib_version": "1.200.0",
    },
    {"event": "added_to_cart", "uuid": UUID_B, "distinct_id": "0191e2b4-anon", "lib": "web"},
]
JS_QUERY = "ip=1&_=1768471200000&ver=1.200.0"


def multipart(fields: dict[str, str], file_field: str | None = None) -> tuple[bytes, str]:
    boundary = "----golden7MA4YWxkTrZu0gW"
    parts = []
    for name, value in fields.items():
        disposition = f'form-data; name="{name}"'
        if name == file_field:
            disposition += '; filename="blob"\r\nContent-Type: application/octet-stream'
        parts.append(f"--{boundary}\r\nContent-Disposition: {disposition}\r\n\r\n{value}\r\n")
    return ("".join(parts) + f"--{boundary}--\r\n").encode(), f"multipart/form-data; boundary={boundary}"


MULTIPART_BODY, MULTIPART_TYPE = multipart({"data": b64(j(ONE)), "compression": "base64"})
MULTIPART_FILE_BODY, MULTIPART_FILE_TYPE = multipart(
    {"data": lz64(j(ONE).decode()), "compression": "lz64"}, "data"
)
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


CONFIG_ANSWER = {
    "token": TOKEN,
    "supportedCompression": ["gzip", "gzip-js"],
    "hasFeatureFlags": False,
    "autocapture_opt_out": False,
    "sessionRecording": False,
    "surveys": False,
}
NO_FLAGS_V2 = {"flags": {}, "errorsWhileComputingFlags": False}
NO_FLAGS_V1 = {"featureFlags": {}, "featureFlagPayloads": {}, "errorsWhileComputingFlags": False}


def answered(name: str, covers: str, answer: dict[str, Any], **request: Any) -> Scenario:
    body = request.pop("body", None)
    raw = body if isinstance(body, bytes) or body is None else j(body)
    return Scenario(name, covers, body=raw, answer=answer, **request)


REMOTE_CONFIG: list[Scenario] = [
    answered(
        "config_json",
        "§10 remote config",
        CONFIG_ANSWER,
        method="GET",
        path=f"/array/{TOKEN}/config",
        headers=JS_HEADERS,
    ),
    Scenario(
        "config_js",
        "§10 remote config script",
        method="GET",
        path=f"/array/{TOKEN}/config.js",
        headers=JS_HEADERS,
    ),
    rejected(
        "config_unknown_key_404",
        "§10 remote config unknown key",
        None,
        404,
        "not_found",
        method="GET",
        path="/array/phc_unknown/config",
    ),
    rejected(
        "config_malformed_key_400",
        "§10 remote config malformed key",
        None,
        400,
        "invalid_payload",
        method="GET",
        path="/array/phc%23bad/config.js",
    ),
    Scenario(
        "config_preflight",
        "§10 remote config preflight",
        method="OPTIONS",
        path=f"/array/{TOKEN}/config",
        headers={**JS_HEADERS, "Access-Control-Request-Method": "GET"},
    ),
    answered(
        "flags_v2_config_posthog_js",
        "§10 flags posthog-js",
        {**NO_FLAGS_V2, **CONFIG_ANSWER},
        path="/flags/",
        query="v=2&config=true",
        body={"token": TOKEN, "distinct_id": "0191e2b4-anon", "groups": {}},
        headers={**JS_HEADERS, "Content-Type": "application/json"},
    ),
    answered(
        "flags_v2_gzip_text_plain",
        "§10 flags gzip posthog-js",
        NO_FLAGS_V2,
        path="/flags/",
        query="v=2",
        body=gz(j({"token": TOKEN, "distinct_id": "0191e2b4-anon"})),
        headers={**JS_HEADERS, "Content-Type": "text/plain"},
    ),
    answered(
        "flags_v4_posthog_python",
        "§10 flags posthog-python",
        NO_FLAGS_V2,
        path="/flags/",
        query="v=4",
        body={
            "distinct_id": "user-1",
            "groups": {},
            "person_properties": {},
            "group_properties": {},
            "geoip_disable": True,
            "device_id": None,
            "api_key": TOKEN,
            "sent_at": "2026-01-15T10:00:00.000000+00:00",
        },
        headers={"Content-Type": "application/json", "User-Agent": "posthog-python/7.91.1"},
    ),
    answered(
        "flags_v2_posthog_node",
        "§10 flags posthog-node",
        NO_FLAGS_V2,
        path="/flags/",
        query="v=2",
        body={
            "token": TOKEN,
            "distinct_id": "user-1",
            "groups": {},
            "person_properties": {},
            "group_properties": {},
            "geoip_disable": False,
            "evaluation_runtime": "server",
        },
        headers={"Content-Type": "application/json", "User-Agent": "posthog-node/5.70.0"},
    ),
    answered(
        "flags_without_v",
        "§10 flags without v: v2 with the remote config",
        {**CONFIG_ANSWER, **NO_FLAGS_V2},
        path="/flags/",
        body={"token": TOKEN, "distinct_id": "user-1"},
        headers={"Content-Type": "application/json"},
    ),
    answered(
        "flags_v1",
        "§10 flags v1: the legacy shape",
        NO_FLAGS_V1,
        path="/flags/",
        query="v=1",
        body={"token": TOKEN, "distinct_id": "user-1"},
        headers={"Content-Type": "application/json"},
    ),
    answered(
        "flags_get_without_a_token",
        "§10 GET flags without a token: an empty answer",
        NO_FLAGS_V2,
        method="GET",
        path="/flags/",
        query="v=2",
    ),
    answered(
        "flags_get_query_token",
        "§10 flags GET",
        NO_FLAGS_V2,
        method="GET",
        path="/flags",
        query=f"v=2&token={TOKEN}",
    ),
    rejected(
        "flags_unknown_key_401",
        "§10 flags unknown key",
        {"token": "phc_unknown", "distinct_id": "u"},
        401,
        "invalid_api_key",
        path="/flags/",
        query="v=2",
    ),
    rejected(
        "flags_missing_key_401",
        "§10 flags no key",
        {"distinct_id": "u"},
        401,
        "missing_api_key",
        path="/flags/",
        query="v=2",
    ),
    rejected(
        "flags_malformed_key_400",
        "§10 flags malformed key",
        {"token": "project#1", "distinct_id": "u"},
        400,
        "invalid_payload",
        path="/flags/",
        query="v=2",
    ),
    answered(
        "decide_v3_base64_form_posthog_js_1200",
        "§10 decide posthog-js 1.200",
        {**CONFIG_ANSWER, **NO_FLAGS_V1, "isAuthenticated": False},
        path="/decide/",
        query="v=3&ip=1&_=1768471200000&ver=1.200.2",
        body=(
            "data=" + quote(b64(j({"token": TOKEN, "distinct_id": "0191e2b4-anon", "groups": {}})))
        ).encode(),
        headers={**JS_HEADERS, "Content-Type": "application/x-www-form-urlencoded"},
    ),
    answered(
        "decide_v1",
        "§10 decide v1: the active flags as a list",
        {**CONFIG_ANSWER, "featureFlags": [], "errorsWhileComputingFlags": False},
        path="/decide/",
        body={"token": TOKEN, "distinct_id": "user-1"},
        headers={"Content-Type": "application/json"},
    ),
    answered(
        "decide_v4",
        "§10 decide v4: the flags shape",
        {**CONFIG_ANSWER, **NO_FLAGS_V2},
        path="/decide/",
        query="v=4",
        body={"token": TOKEN, "distinct_id": "user-1"},
        headers={"Content-Type": "application/json"},
    ),
    answered(
        "decide_v2_json",
        "§10 decide v2: the active flags, no payloads",
        {**CONFIG_ANSWER, "featureFlags": {}, "errorsWhileComputingFlags": False},
        path="/decide/",
        query="v=2",
        body={"token": TOKEN, "distinct_id": "user-1"},
        headers={"Content-Type": "application/json"},
    ),
    rejected(
        "decide_unknown_key_401",
        "§10 decide unknown key",
        {"token": "phc_unknown"},
        401,
        "invalid_api_key",
        path="/decide/",
        query="v=3",
    ),
]


V1_REQUEST_ID = "0193a1b2-0000-7000-8000-00000000cccc"
V1_HEADERS = {
    "Authorization": f"Bearer {TOKEN}",
    "Content-Type": "application/json",
    "User-Agent": "posthog-python/7.91.1",
    "PostHog-Sdk-Info": "posthog-python/7.91.1",
    "PostHog-Attempt": "1",
    "PostHog-Request-Id": V1_REQUEST_ID,
    # The client's clock is 2 s behind the server's (NOW): its events are moved 2 s later.
    "PostHog-Request-Timestamp": "2026-01-15T09:59:58.000000+00:00",
}
V1_NODE_HEADERS = {
    **V1_HEADERS,
    "User-Agent": "posthog-node/5.70.0",
    "PostHog-Sdk-Info": "posthog-node/5.70.0",
    "PostHog-Request-Timestamp": NOW,
    "Content-Encoding": "gzip",
}


def v1_event(name: str, uuid: str, **fields: Any) -> dict[str, Any]:
    return {"event": name, "uuid": uuid, "distinct_id": "user-1", "timestamp": TS, "properties": {}, **fields}


def v1_body(*events: dict[str, Any], **envelope: Any) -> bytes:
    return j({"created_at": "2026-01-15T09:59:58.000000+00:00", "batch": list(events), **envelope})


V1 = "/i/v1/analytics/events"


def v1_answer(name: str, covers: str, body: bytes, answer: dict[str, Any], events: list[dict[str, Any]],
              headers: dict[str, str] = V1_HEADERS) -> Scenario:  # fmt: skip
    return Scenario(name, covers, path=V1, headers=headers, body=body, answer=answer, events=events)


def v1_rejected(
    name: str, covers: str, body: bytes, status: int, error: str, headers: dict[str, str] = V1_HEADERS
):
    return Scenario(name, covers, path=V1, headers=headers, body=body, status=status, answer={"error": error})


CAPTURE_V1: list[Scenario] = [
    v1_answer(
        "v1_posthog_python",
        "§11 capture v1 posthog-python",
        v1_body(
            v1_event(
                "signed_up",
                UUID_A,
                session_id="s-1",
                window_id="w-1",
                options={"process_person_profile": True},
                properties={"plan": "pro"},
            ),
            v1_event("$identify", UUID_B, properties={"$set": {"email": "a@example.com"}}),
        ),
        {"results": {UUID_A: {"result": "ok"}, UUID_B: {"result": "ok"}}},
        [
            {
                "uuid": UUID_A,
                "event": "signed_up",
                "lib": "posthog-python",
                "lib_version": "7.91.1",
                "timestamp": "2026-01-15T10:00:00.500Z",
            },
            {"uuid": UUID_B, "$set": {"email": "a@example.com"}},
        ],
    ),
    v1_answer(
        "v1_posthog_node_gzip",
        "§11 capture v1 posthog-node gzip",
        gz(v1_body(v1_event("node_event", UUID_A, options={"cookieless_mode": False}))),
        {"results": {UUID_A: {"result": "ok"}}},
        [{"uuid": UUID_A, "lib": "posthog-node", "timestamp": TS}],
        headers=V1_NODE_HEADERS,
    ),
    v1_answer(
        "v1_drop_and_ok",
        "§11 capture v1 drop",
        v1_body(v1_event("", UUID_A), v1_event("kept", UUID_B)),
        {"results": {UUID_A: {"result": "drop", "details": "missing_event_name"}, UUID_B: {"result": "ok"}}},
        [{"uuid": UUID_B, "event": "kept"}],
    ),
    v1_rejected("v1_empty_batch", "§11 capture v1 empty batch", v1_body(), 400, "empty_batch"),
    v1_rejected(
        "v1_duplicate_uuid",
        "§11 capture v1 duplicate uuid",
        v1_body(v1_event("a", UUID_A), v1_event("b", UUID_A)),
        400,
        "duplicate_event_uuid",
    ),
    v1_rejected(
        "v1_bad_created_at",
        "§11 capture v1 created_at",
        j({"created_at": "soon", "batch": [v1_event("a", UUID_A)]}),
        400,
        "invalid_batch",
    ),
    v1_rejected(
        "v1_missing_headers",
        "§11 capture v1 required headers",
        v1_body(v1_event("a", UUID_A)),
        400,
        "missing_required_headers",
        headers={k: v for k, v in V1_HEADERS.items() if not k.startswith("PostHog")},
    ),
    v1_rejected(
        "v1_no_authorization",
        "§11 capture v1 auth",
        v1_body(v1_event("a", UUID_A)),
        401,
        "missing_authorization",
        headers={k: v for k, v in V1_HEADERS.items() if k != "Authorization"},
    ),
    v1_rejected(
        "v1_unknown_key",
        "§11 capture v1 auth",
        v1_body(v1_event("a", UUID_A)),
        401,
        "invalid_api_token",
        headers={**V1_HEADERS, "Authorization": "Bearer phc_unknown"},
    ),
    v1_rejected(
        "v1_text_plain_415",
        "§11 capture v1 content type",
        v1_body(v1_event("a", UUID_A)),
        415,
        "unsupported_content_type",
        headers={**V1_HEADERS, "Content-Type": "text/plain"},
    ),
]


def snapshot_event(uuid: str, **properties: Any) -> dict[str, Any]:
    return {
        "event": "$snapshot",
        "uuid": uuid,
        "timestamp": TS,
        "properties": {
            "$snapshot_data": [
                {"type": 4, "data": {"href": "https://shop.example/"}, "timestamp": 1768471198500}
            ],
            "$session_id": "0193e2b4-5c3e-7a1b-8f00-00000000000a",
            "$window_id": "0193e2b4-5c3e-7a1b-8f00-00000000000b",
            "$snapshot_bytes": 85,
            "distinct_id": "0191e2b4-anon",
            "token": RECORDING_TOKEN,
            "$lib": "web",
            **properties,
        },
    }


RECORDINGS: list[Scenario] = [
    ok(
        "recording_posthog_js_gzip",
        "§12 recordings posthog-js",
        gz(j([snapshot_event(UUID_A), snapshot_event(UUID_B)])),
        [
            {
                "uuid": UUID_A,
                "event": "$snapshot",
                "project_id": RECORDING_PROJECT_ID,
                "token": RECORDING_TOKEN,
            },
            {"uuid": UUID_B, "event": "$snapshot"},
        ],
        path="/s/",
        query=JS_QUERY + "&compression=gzip-js",
        headers={**JS_HEADERS, "Content-Type": "text/plain"},
    ),
    rejected(
        "recording_without_session_id",
        "§12 recordings validation",
        gz(j([snapshot_event(UUID_A, **{"$session_id": None})])),
        400,
        "invalid_payload",
        "[0].properties.$session_id",
        path="/s/",
        headers={"Content-Type": "text/plain"},
    ),
    rejected(
        "recording_without_snapshot_data",
        "§12 recordings validation",
        gz(j([snapshot_event(UUID_A, **{"$snapshot_data": "x"})])),
        400,
        "invalid_payload",
        "[0].properties.$snapshot_data",
        path="/s/",
        headers={"Content-Type": "text/plain"},
    ),
    answered(
        "recording_project_has_it_off",
        "§12 recordings setting off: 200, nothing stored",
        {"status": 1},
        body=gz(j([snapshot_event(UUID_A, token=TOKEN)])),
        path="/s/",
        headers={"Content-Type": "text/plain"},
    ),
    rejected(
        "recording_not_a_snapshot",
        "§12 recordings: only $snapshot events",
        gz(j([{**snapshot_event(UUID_A), "event": "$pageview"}])),
        400,
        "invalid_payload",
        "[0].event",
        path="/s/",
        headers={"Content-Type": "text/plain"},
    ),
]


SCENARIOS: list[Scenario] = [
    # §1 routes
    *[
        ok(
            f"route_{p.strip('/').replace('/', '_')}_{'slash' if p.endswith('/') else 'bare'}",
            "§1 routes",
            ONE,
            ONE_STORED,
            path=p,
        )
        for p in [
            "/capture",
            "/capture/",
            "/e",
            "/e/",
            "/i/v0/e/",
            "/track/",
            "/engage/",
            "/batch",
            "/batch/",
        ]
    ],
    ok(
        "get_query_data_base64",
        "§1 GET with data",
        None,
        ONE_STORED,
        method="GET",
        query="data=" + quote(b64(j(ONE))),
    ),
    ok(
        "get_query_data_json",
        "§1 GET with data",
        None,
        ONE_STORED,
        method="GET",
        query="data=" + quote(j(ONE)),
    ),
    Scenario(
        "options_preflight",
        "§1 OPTIONS, §7 preflight",
        method="OPTIONS",
        path="/e/",
        headers={
            **JS_HEADERS,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        },
    ),
    rejected("unknown_path_404", "§1 unknown paths", ONE, 404, "not_found", path="/nothing-here/"),
    rejected("put_405", "§1 other methods", ONE, 405, "method_not_allowed", method="PUT"),
    # §2 decoding
    ok(
        "query_data_wins_over_body",
        "§2.2 raw payload",
        {"event": "ignored"},
        ONE_STORED,
        query="data=" + quote(b64(j(ONE))),
    ),
    rejected("no_body_no_data", "§2.2 neither", None, 400, "no_data"),
    rejected(
        "empty_query_data_and_no_body", "§2.2 empty data", None, 400, "no_data", method="GET", query="data="
    ),
    ok(
        "form_data_base64",
        "§2.3 form data",
        ("data=" + quote(b64(j(ONE)))).encode(),
        ONE_STORED,
        headers=FORM,
    ),
    ok(
        "form_data_plus_as_spaces",
        "§2.3 + turned into spaces",
        ("data=" + b64(j({**ONE, "properties": {"s": "ÿÿ>>ÿ?"}})).replace("+", " ")).encode(),
        [{**ONE_STORED[0], "properties": {"s": "ÿÿ>>ÿ?"}}],
        headers=FORM,
    ),
    ok(
        "form_charset_parameter_ignored",
        "§2.3 media type parameters",
        ("data=" + quote(b64(j(ONE)))).encode(),
        ONE_STORED,
        headers={"Content-Type": "Application/X-WWW-Form-Urlencoded; charset=UTF-8"},
    ),
    ok(
        "multipart_text_parts",
        "§2.3 multipart",
        MULTIPART_BODY,
        ONE_STORED,
        headers={"Content-Type": MULTIPART_TYPE},
    ),
    ok(
        "multipart_file_part_lz64",
        "§2.3 multipart file parts",
        MULTIPART_FILE_BODY,
        ONE_STORED,
        headers={"Content-Type": MULTIPART_FILE_TYPE},
    ),
    ok(
        "data_body_under_text_plain",
        "§2.3 data= body whatever the type",
        ("data=" + quote(b64(j(ONE)))).encode(),
        ONE_STORED,
        headers={"Content-Type": "text/plain;charset=UTF-8"},
    ),
    ok(
        "form_api_key_field",
        "§2.3 form api_key",
        ("data=" + quote(b64(j(event()))) + f"&api_key={TOKEN}").encode(),
        ONE_STORED,
        headers=FORM,
    ),
    ok(
        "form_token_field",
        "§2.3 form token",
        ("data=" + quote(b64(j(event()))) + f"&token={TOKEN}").encode(),
        ONE_STORED,
        headers=FORM,
    ),
    ok(
        "hint_query_gzip",
        "§2.4 query compression",
        gz(j(ONE)),
        ONE_STORED,
        query="compression=gzip-js",
    ),
    ok(
        "hint_form_lz64",
        "§2.4 form compression",
        ("data=" + quote(lz64(j(ONE).decode())) + "&compression=lz64").encode(),
        ONE_STORED,
        headers=FORM,
    ),
    ok(
        "hint_content_encoding_gzip",
        "§2.4 Content-Encoding",
        gz(j(ONE)),
        ONE_STORED,
        headers={"Content-Encoding": "gzip"},
    ),
    ok(
        "hint_case_insensitive",
        "§2.4 case-insensitive",
        lz64(j(ONE).decode()).encode(),
        ONE_STORED,
        query="compression=LZ-String",
    ),
    ok("hint_unknown_ignored", "§2.4 unknown hints ignored", ONE, ONE_STORED, query="compression=zstd"),
    ok("hint_base64", "§2.4 base64 hint", b64(j(ONE)).encode(), ONE_STORED, query="compression=b64"),
    ok(
        "gzip_magic_without_hint",
        "§2.5 gzip by magic bytes",
        gz(j(ONE)),
        ONE_STORED,
        headers={"Content-Type": "text/plain"},
    ),
    ok(
        "gzip_hint_on_inflated_bytes",
        "§2.5 gzip hint on plain bytes",
        ONE,
        ONE_STORED,
        headers={"Content-Encoding": "gzip"},
    ),
    ok(
        "lz_string_spaces_repaired",
        "§2.5 lz-string spaces",
        (
            "data=" + lz64(j({**ONE, "properties": {"pad": "x" * 200 + "ÿ" * 40}}).decode()).replace("+", " ")
        ).encode(),
        [{**ONE_STORED[0], "properties": {"pad": "x" * 200 + "ÿ" * 40}}],
        headers=FORM,
        query="compression=lz64",
    ),
    ok(
        "lz_string_astral_repaired",
        "§2.5 lz-string surrogate pairs",
        lz64(j({**ONE, "properties": {"emoji": "🦔🚀"}}).decode()).encode(),
        [{**ONE_STORED[0], "properties": {"emoji": "🦔🚀"}}],
        query="compression=lz64",
    ),
    rejected(
        "gzip_bomb",
        "§2.5 capped decompression",
        gz(b"[" + b" " * (21 * 1024 * 1024) + b"]"),
        413,
        "request_too_large",
    ),
    ok("base64_no_padding", "§2.6 base64, missing padding", b64(j(ONE)).rstrip("=").encode(), ONE_STORED),
    ok("base64_of_gzip", "§2.6 nested base64 then gzip", b64(gz(j(ONE))).encode(), ONE_STORED),
    ok(
        "nan_infinity_null",
        "§2.7 NaN and Infinity",
        (j(ONE)[:-1] + b', "properties": {"a": NaN, "b": -Infinity}}'),
        [{**ONE_STORED[0], "properties": {"a": None, "b": None}}],
    ),
    rejected(
        "invalid_utf8",
        "§2.7 invalid UTF-8",
        b'{"event": "\xc3\x28", "distinct_id": "u"}',
        400,
        "invalid_payload",
    ),
    rejected("invalid_json", "§2.7 invalid JSON", b'{"event": "x", ', 400, "invalid_payload"),
    # §3 body shapes
    ok(
        "shape_array",
        "§3 array",
        [ONE, {**ONE, "uuid": UUID_B, "event": "second"}],
        [ONE_STORED[0], {**ONE_STORED[0], "uuid": UUID_B, "event": "second"}],
    ),
    ok(
        "shape_envelope",
        "§3 envelope",
        {"api_key": TOKEN, "batch": [event()], "historical_migration": True},
        [{**ONE_STORED[0], "historical_migration": True}],
        path="/batch/",
    ),
    ok(
        "shape_engage_without_event",
        "§3 /engage is $identify",
        {"$token": TOKEN, "$distinct_id": "user-9", "$set": {"email": "a@example.com"}},
        [{"event": "$identify", "distinct_id": "user-9", "$set": {"email": "a@example.com"}}],
        path="/engage/",
    ),
    rejected(
        "shape_object_without_event",
        "§3 object without event",
        {"api_key": TOKEN, "distinct_id": "u"},
        400,
        "invalid_payload",
    ),
    rejected("shape_empty_array", "§3 no events", [], 400, "no_data"),
    rejected(
        "shape_empty_batch", "§3 no events", {"api_key": TOKEN, "batch": []}, 400, "no_data", attr="batch"
    ),
    rejected(
        "shape_non_object_element",
        "§3 non-object element",
        {"api_key": TOKEN, "batch": [event(), "x"]},
        400,
        "invalid_payload",
        attr="batch[1]",
    ),
    # §4 events
    rejected(
        "event_missing_name",
        "§4 event",
        {"api_key": TOKEN, "distinct_id": "u", "event": ""},
        400,
        "invalid_payload",
        attr="event",
    ),
    ok(
        "distinct_id_dollar",
        "§4 $distinct_id",
        {"api_key": TOKEN, "event": "e", "$distinct_id": "d2"},
        [{"distinct_id": "d2"}],
    ),
    ok(
        "distinct_id_from_properties",
        "§4 properties.distinct_id",
        {"api_key": TOKEN, "event": "e", "distinct_id": "", "properties": {"distinct_id": "d3"}},
        [{"distinct_id": "d3"}],
    ),
    ok(
        "distinct_id_number",
        "§4 coercion",
        {"api_key": TOKEN, "event": "e", "distinct_id": 12345},
        [{"distinct_id": "12345"}],
    ),
    ok(
        "distinct_id_bool",
        "§4 coercion",
        {"api_key": TOKEN, "event": "e", "distinct_id": False},
        [{"distinct_id": "false"}],
    ),
    ok(
        "distinct_id_object",
        "§4 coercion",
        {"api_key": TOKEN, "event": "e", "distinct_id": {"a": [1, 2]}},
        [{"distinct_id": '{"a":[1,2]}'}],
    ),
    ok(
        "distinct_id_nul_and_cut",
        "§4 NUL and 200 characters",
        {"api_key": TOKEN, "event": "e", "distinct_id": "\x00" + "d" * 250},
        [{"distinct_id": "\ufffd" + "d" * 199}],
    ),
    rejected(
        "distinct_id_missing",
        "§4 no distinct_id",
        {"api_key": TOKEN, "event": "e"},
        400,
        "invalid_payload",
        attr="distinct_id",
    ),
    ok("uuid_upper_case_kept", "§4 uuid kept", {**ONE, "uuid": UUID_A.upper()}, ONE_STORED),
    ok("uuid_missing_gets_v7", "§4 server UUIDv7", {**ONE, "uuid": ""}, [{"uuid": "<uuidv7>"}]),
    rejected("uuid_invalid", "§4 invalid uuid", {**ONE, "uuid": "123"}, 400, "invalid_payload", attr="uuid"),
    ok("properties_null", "§4 properties null", {**ONE, "properties": None}, [{"properties": {}}]),
    rejected(
        "properties_not_object",
        "§4 properties type",
        {**ONE, "properties": "x"},
        400,
        "invalid_payload",
        attr="properties",
    ),
    ok(
        "timestamp_zone_offset",
        "§4 timestamp with zone",
        {**ONE, "timestamp": "2026-01-15T11:59:58.500+02:00"},
        [{"timestamp": TS, "client_timestamp": TS}],
    ),
    ok(
        "timestamp_no_zone",
        "§4 timestamp without zone",
        {**ONE, "timestamp": "2026-01-15T09:59:58.5"},
        [{"timestamp": TS}],
    ),
    ok(
        "timestamp_nanoseconds",
        "§4 fractions",
        {**ONE, "timestamp": "2026-01-15T09:59:58.500000000Z"},
        [{"timestamp": TS}],
    ),
    ok(
        "timestamp_epoch_ms",
        "§4 epoch milliseconds",
        {**ONE, "timestamp": 1768471198500},
        [{"timestamp": TS}],
    ),
    rejected(
        "timestamp_invalid",
        "§4 invalid timestamp",
        {**ONE, "timestamp": "last tuesday"},
        400,
        "invalid_payload",
        attr="timestamp",
    ),
    ok("offset_wins", "§4 offset", {**ONE, "offset": 1500}, [{"timestamp": TS, "client_timestamp": TS}]),
    rejected(
        "offset_invalid",
        "§4 offset integer",
        {**ONE, "offset": "soon"},
        400,
        "invalid_payload",
        attr="offset",
    ),
    ok(
        "sent_at_skew",
        "§8 timestamp + (now - sent_at)",
        {
            "api_key": TOKEN,
            "sent_at": "2026-01-15T09:00:00.000Z",
            "batch": [event(timestamp="2026-01-15T08:59:58.500Z")],
        },
        [{"timestamp": TS, "sent_at": "2026-01-15T09:00:00.000Z"}],
        path="/batch/",
    ),
    ok(
        "future_timestamp_is_now",
        "§8 more than 23 h ahead",
        {**ONE, "timestamp": "2026-01-16T10:00:01Z"},
        [{"timestamp": NOW}],
    ),
    ok(
        "missing_timestamp_is_now",
        "§8 else now",
        {k: v for k, v in ONE.items() if k != "timestamp"},
        [{"timestamp": NOW, "client_timestamp": None}],
    ),
    ok(
        "set_and_set_once_top_level",
        "§4 $set/$set_once",
        {**ONE, "$set": {"a": 1}, "$set_once": {"b": 2}},
        [{"$set": {"a": 1}, "$set_once": {"b": 2}}],
    ),
    ok(
        "set_in_properties",
        "§4 $set inside properties",
        {**ONE, "properties": {"$set": {"a": 1}}},
        [{"$set": {"a": 1}, "$set_once": None}],
    ),
    rejected(
        "set_not_object", "§4 $set type", {**ONE, "$set_once": [1]}, 400, "invalid_payload", attr="$set_once"
    ),
    ok(
        "unknown_top_level_keys_kept",
        "§4 unknown keys",
        {**ONE, "type": "capture", "library": "x"},
        [{"type": "capture", "library": "x"}],
    ),
    # §5 authentication
    ok(
        "token_envelope_token_field",
        "§5 envelope token",
        {"token": TOKEN, "batch": [event()]},
        ONE_STORED,
        path="/batch/",
    ),
    ok("token_event_dollar_token", "§5 $token", {**event(), "$token": TOKEN}, ONE_STORED),
    ok(
        "token_properties_token",
        "§5 properties.token",
        {**event(), "properties": {"token": TOKEN}},
        [{"token": TOKEN}],
    ),
    ok("token_query", "§5 query api_key", event(), ONE_STORED, query=f"api_key={TOKEN}"),
    ok(
        "token_bearer",
        "§5 Authorization: Bearer",
        event(),
        ONE_STORED,
        headers={"Authorization": f"Bearer {TOKEN}"},
    ),
    ok("token_trimmed", "§5 white space trimmed", {**event(), "api_key": f"  {TOKEN}\n"}, ONE_STORED),
    ok(
        "token_envelope_wins",
        "§5 first found wins",
        {"api_key": TOKEN, "batch": [{**event(), "api_key": "phc_other"}]},
        ONE_STORED,
        path="/batch/",
    ),
    rejected(
        "token_inconsistent",
        "§5 different tokens",
        [ONE, {**ONE, "api_key": "phc_other"}],
        401,
        "inconsistent_api_keys",
        attr="[1].api_key",
    ),
    rejected("token_missing", "§5 no token", event(), 401, "missing_api_key"),
    rejected("token_empty", "§5 empty", {**event(), "api_key": "  "}, 401, "invalid_api_key"),
    rejected("token_too_long", "§5 over 200", {**event(), "api_key": "p" * 201}, 401, "invalid_api_key"),
    rejected("token_non_ascii", "§5 non-ASCII", {**event(), "api_key": "phc_ü"}, 401, "invalid_api_key"),
    rejected(
        "token_unknown", "§5 unknown key", {**event(), "api_key": "phc_unknown"}, 401, "invalid_api_key"
    ),
    # §6 limits
    rejected(
        "event_too_large",
        "§6 one stored event",
        gz(j({**ONE, "properties": {"x": "y" * 1_100_000}})),
        413,
        "event_too_large",
    ),
    # §7 responses
    ok(
        "beacon_204",
        "§7 beacon=1",
        gz(j(JS_BATCH)),
        JS_STORED,
        path="/e/",
        query=JS_QUERY + "&beacon=1",
        headers={**JS_HEADERS, "Content-Type": "text/plain;charset=UTF-8"},
        status=204,
    ),
    ok(
        "ignored_query_parameters",
        "§7 ip, ver, _, retry_count",
        ONE,
        ONE_STORED,
        query="ip=1&ver=1.2.3&_=notanumber&retry_count=3",
    ),
    rejected("error_with_cors", "§7 CORS on errors", b"{", 400, "invalid_payload", headers=JS_HEADERS),
    # SDK request shapes
    ok(
        "sdk_posthog_js_gzip",
        "posthog-js gzip text/plain",
        gz(j(JS_BATCH)),
        JS_STORED,
        path="/e/",
        query=JS_QUERY + "&compression=gzip-js",
        headers={**JS_HEADERS, "Content-Type": "text/plain"},
    ),
    ok(
        "sdk_posthog_js_json",
        "posthog-js JSON",
        JS_BATCH,
        JS_STORED,
        path="/e/",
        query=JS_QUERY,
        headers={**JS_HEADERS, "Content-Type": "application/json"},
    ),
    ok(
        "sdk_posthog_js_single_i_v0",
        "posthog-js /i/v0/e single event",
        js_event("$pageview", UUID_A),
        JS_STORED[:1],
        path="/i/v0/e/",
        query=JS_QUERY,
        headers={**JS_HEADERS, "Content-Type": "application/json"},
    ),
    ok(
        "sdk_posthog_js_legacy_lz64",
        "posthog-js 1.x lz64 form",
        ("data=" + quote(lz64(j(JS_BATCH).decode())) + "&compression=lz64").encode(),
        JS_STORED,
        path="/e/",
        query=JS_QUERY,
        headers={**JS_HEADERS, **FORM},
    ),
    ok(
        "sdk_posthog_js_legacy_base64_form",
        "posthog-js 1.x base64 form",
        ("data=" + quote(b64(j(JS_BATCH)))).encode(),
        JS_STORED,
        path="/e/",
        query=JS_QUERY,
        headers={**JS_HEADERS, **FORM},
    ),
    ok(
        "sdk_posthog_python",
        "posthog-python /batch/",
        {
            "api_key": TOKEN,
            "sent_at": "2026-01-15T10:00:00.000+00:00",
            "batch": [
                {
                    **event("signed_up"),
                    "properties": {"$lib": "posthog-python", "$lib_version": "7.0.0"},
                    "type": "capture",
                    "library": "posthog-python",
                    "library_version": "7.0.0",
                }
            ],
        },
        [{"event": "signed_up", "lib": "posthog-python", "lib_version": "7.0.0", "type": "capture"}],
        path="/batch/",
        headers={"Content-Type": "application/json", "User-Agent": "posthog-python/7.0.0"},
    ),
    ok(
        "sdk_posthog_python_gzip",
        "posthog-python gzip=True",
        gz(j({"api_key": TOKEN, "batch": [event("signed_up")]})),
        [{"event": "signed_up"}],
        path="/batch/",
        headers={"Content-Type": "application/json", "Content-Encoding": "gzip"},
    ),
    ok(
        "sdk_posthog_node_gzip",
        "posthog-node default (gzip)",
        gz(
            j(
                {
                    "api_key": TOKEN,
                    "batch": [{**event("order_paid"), "properties": {"$lib": "posthog-node"}}],
                    "sent_at": "2026-01-15T10:00:00.000Z",
                }
            )
        ),
        [{"event": "order_paid", "lib": "posthog-node"}],
        path="/batch/",
        headers={
            "Content-Type": "application/json",
            "Content-Encoding": "gzip",
            "User-Agent": "posthog-node/5.0.0",
        },
    ),
    ok(
        "sdk_posthog_go",
        "posthog-go /batch/",
        {
            "api_key": TOKEN,
            "batch": [
                {
                    **event("go_event"),
                    "timestamp": "2026-01-15T09:59:58.500000123Z",
                    "properties": {"$lib": "posthog-go", "$lib_version": "1.2.0"},
                }
            ],
        },
        [{"event": "go_event", "timestamp": TS, "lib": "posthog-go"}],
        path="/batch/",
    ),
    ok(
        "sdk_posthog_android",
        "posthog-android gzip batch",
        gz(
            j(
                {
                    "api_key": TOKEN,
                    "batch": [{**event("screen"), "properties": {"$lib": "posthog-android"}}],
                    "sent_at": "2026-01-15T10:00:00.000Z",
                }
            )
        ),
        [{"event": "screen", "lib": "posthog-android"}],
        path="/batch",
        headers={"Content-Encoding": "gzip"},
    ),
    # §10 remote config, flags, decide; §11 capture v1; §12 recordings
    *REMOTE_CONFIG,
    *CAPTURE_V1,
    *RECORDINGS,
    ok(
        "sdk_mixpanel_style_track_get",
        "/track with base64 data in the query",
        None,
        ONE_STORED,
        method="GET",
        path="/track/",
        query="data=" + quote(b64(j(ONE))),
    ),
]
