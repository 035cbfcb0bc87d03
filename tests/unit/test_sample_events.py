"""Every file in events/ (for `sam local invoke -e`) is a valid API Gateway event with a known answer."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from capture_core.auth.key_items import ProjectSettings
from support.app import CaptureApp
from support.fakes import FakeKeyTable

EVENTS = Path(__file__).resolve().parents[2] / "events"
LOCAL_TOKEN = "phc_local_demo_token"

# Each file's answer: status, events (and recordings) stored, and for errors the code and attr
# events/README.md names. The demo project records sessions here, as after
# `capture-keys --local project-settings 1 --session-recording on`.
EXPECTED: dict[str, tuple[int, int, str | None, str | None]] = {
    "batch_envelope": (200, 1, None, None),
    "batch_gzip": (200, 1, None, None),
    "batch_invalid_event": (400, 0, "invalid_payload", "batch[1].event"),
    "capture_json": (200, 1, None, None),
    "capture_missing_distinct_id": (400, 0, "invalid_payload", "distinct_id"),
    "capture_unknown_key": (401, 0, "invalid_api_key", None),
    "e_beacon": (204, 2, None, None),
    "e_form_lz64": (200, 2, None, None),
    "e_gzip_text_plain": (200, 2, None, None),
    "e_json_with_preflight_origin": (200, 2, None, None),
    "e_preflight_options": (200, 0, None, None),
    "engage_identify": (200, 1, None, None),
    "get_data_query": (200, 1, None, None),
    "unknown_path": (404, 0, "not_found", None),
    "v1_gzip": (200, 2, None, None),
    "v1_missing_headers": (400, 0, "missing_required_headers", None),
    "s_snapshot_gzip": (200, 1, None, None),
    "config_js": (200, 0, None, None),
    "flags_post": (200, 0, None, None),
}
RECORDINGS = {"s_snapshot_gzip"}


def test_every_sample_event_has_an_expected_answer():
    assert sorted(path.stem for path in EVENTS.glob("*.json")) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_sample_event_answers_as_expected(name: str):
    table = FakeKeyTable()
    table.add_project(LOCAL_TOKEN, 1, settings=ProjectSettings(session_recording=True))
    app = CaptureApp(table=table)
    answer = app.invoke(json.loads((EVENTS / f"{name}.json").read_text()))
    status, count, code, attr = EXPECTED[name]
    stored, other = app.stored(), app.stored_recordings()
    if name in RECORDINGS:
        stored, other = other, stored
    assert (answer.status, len(stored), len(other)) == (status, count, 0)
    if name.startswith("v1_"):  # capture v1's own error format (docs/protocol.md §11)
        assert answer.json().get("error") == code
        if status == 200:
            assert {result["result"] for result in answer.json()["results"].values()} == {"ok"}
    elif code is not None:
        assert (answer.json()["code"], answer.json()["attr"]) == (code, attr)


def test_the_readme_states_each_files_answer():
    readme = (EVENTS / "README.md").read_text()
    for name, (status, _, code, attr) in EXPECTED.items():
        row = next(line for line in readme.splitlines() if line.startswith(f"| `{name}.json`"))
        assert str(status) in row
        for named in (code, attr):
            if named:
                assert named in row, (name, named)
