"""Every file in events/ (for `sam local invoke -e`) is a valid API Gateway event with a known answer."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from support.app import CaptureApp
from support.fakes import FakeKeyTable

EVENTS = Path(__file__).resolve().parents[2] / "events"
LOCAL_TOKEN = "phc_local_demo_token"

EXPECTED = {
    "batch_envelope": (200, 1),
    "batch_gzip": (200, 1),
    "batch_invalid_event": (400, 0),
    "capture_json": (200, 1),
    "capture_missing_distinct_id": (400, 0),
    "capture_unknown_key": (401, 0),
    "e_beacon": (204, 2),
    "e_form_lz64": (200, 2),
    "e_gzip_text_plain": (200, 2),
    "e_json_with_preflight_origin": (200, 2),
    "e_preflight_options": (200, 0),
    "engage_identify": (200, 1),
    "get_data_query": (200, 1),
    "unknown_path": (404, 0),
}


def test_every_sample_event_has_an_expected_answer():
    assert sorted(path.stem for path in EVENTS.glob("*.json")) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_sample_event_answers_as_expected(name: str):
    app = CaptureApp(table=FakeKeyTable.with_project(LOCAL_TOKEN, 1))
    answer = app.invoke(json.loads((EVENTS / f"{name}.json").read_text()))
    assert (answer.status, len(app.stored())) == EXPECTED[name]
