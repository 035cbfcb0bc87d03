"""Every stored line is strict JSON, whatever valid-but-hostile JSON the client sent (hypothesis):
no `NaN` or `Infinity`, no lone surrogates, nesting and big integers written as JSON allows."""

from __future__ import annotations

import json
from typing import Any

import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support.app import DEMO_TOKEN, CaptureApp
from support.budget import examples


def _refuse(constant: str) -> Any:
    raise ValueError(f"{constant} is not JSON")


def strictly_parsed(line: bytes) -> Any:
    """`line` read by two strict parsers: orjson (no NaN, no lone surrogates) and the standard
    library with non-standard constants refused."""
    orjson.loads(line)
    return json.loads(line, parse_constant=_refuse)


hostile_scalars = st.sampled_from(
    [
        "NaN",
        "Infinity",
        "-Infinity",
        "1e999",
        "-1e999",
        "1E+400",
        "123456789012345678901234567890",
        '"\\ud800"',
        '"\\udfff tail"',
        '"a\\ud83d"',
        '"\\u2028\\u0085"',
        '"\\u0000"',
        "0.1e-999",
    ]
)
plain_scalars = st.sampled_from(["1", "-2.5", '"text"', "true", "null", '"🦔"'])


@st.composite
def hostile_json(draw: st.DrawFn) -> str:
    """JSON text (as clients send it) mixing hostile scalars with deep or wide containers."""
    scalar = draw(hostile_scalars | plain_scalars)
    depth = draw(st.sampled_from([0, 1, 3, 254, 255, 256, 400, 900]))
    wide = ", ".join(draw(st.lists(hostile_scalars | plain_scalars, max_size=4)))
    inner = f"[{scalar}{', ' + wide if wide else ''}]" if draw(st.booleans()) else f'{{"k": {scalar}}}'
    return "[" * depth + inner + "]" * depth


@settings(max_examples=examples(300), suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(value=hostile_json(), where=st.sampled_from(["property", "distinct_id", "extra", "$set"]))
def test_every_stored_line_parses_with_a_strict_parser(value: str, where: str) -> None:
    app = CaptureApp()
    fields = {
        "property": f'"distinct_id": "u", "properties": {{"v": {value}}}',
        "distinct_id": f'"distinct_id": {value}',
        "extra": f'"distinct_id": "u", "extra": {value}',
        "$set": f'"distinct_id": "u", "$set": {{"v": {value}}}',
    }[where]
    body = f'{{"api_key": "{DEMO_TOKEN}", "event": "e", {fields}}}'
    answer = app.request("POST", "/capture/", body)
    assert answer.status in {200, 400}, answer.body
    if answer.status == 400:
        assert answer.json()["code"] == "invalid_payload"
        return
    (line,) = app.sink.lines
    stored = strictly_parsed(line)
    assert stored["event"] == "e"
