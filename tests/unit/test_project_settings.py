"""Project settings and key items (docs/protocol.md §13): checked where they are written, and again where they
are read, since a table item is data anyone with access may have edited. No item, however
malformed, turns an answer into a 500, and no malformed `revoked` lets a key through."""

from __future__ import annotations

import json
from typing import Any

import pytest
from capture_admin.cli import main
from capture_core.auth.key_items import MAX_PROJECT_ID, project_key_item
from capture_core.auth.project_settings import MAX_RECORDING_MIN_DURATION_MS, ProjectSettings, check
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support.app import DEMO_TOKEN, CaptureApp

# Writing: the CLI refuses what no reader could use, naming the setting and its range.


@pytest.mark.parametrize(
    ("arguments", "said"),
    [
        (
            ["project-settings", "42", "--recording-min-duration-ms", "18446744073709551616"],
            "recording_min_duration_ms",
        ),
        (["project-settings", "42", "--recording-min-duration-ms", "-1"], "recording_min_duration_ms"),
        (["project-settings", "42", "--recording-sample-rate", "nan"], "recording_sample_rate"),
        (["project-settings", "42", "--recording-sample-rate", "1.5"], "recording_sample_rate"),
        (["project-settings", "42", "--recording-sample-rate", "inf"], "recording_sample_rate"),
        (["project-settings", "42", "--recording-domains", "example.com"], "recording_domains"),
        (["project-settings", "42", "--session-recording", "yes"], "on or off"),
        (["project-settings", str(2**64), "--heatmaps", "on"], "PROJECT_ID"),
        (["project-settings", "0", "--heatmaps", "on"], "PROJECT_ID"),
        (["create-project", str(2**53), "--name", "x"], "PROJECT_ID"),
        (["create-personal-key", "--name", "x", "--project-id", str(2**53)], "project-id"),
    ],
)
def test_the_cli_refuses_a_value_out_of_range_naming_it(
    arguments: list[str], said: str, capsys: pytest.CaptureFixture[str]
):
    # Refused while reading the arguments: no table is reached (none exists here).
    assert main(["--table", "no-such-table", *arguments]) == 2
    assert said in capsys.readouterr().err


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("recording_sample_rate", float("nan")),
        ("recording_sample_rate", -0.1),
        ("recording_min_duration_ms", MAX_RECORDING_MIN_DURATION_MS + 1),
        ("recording_min_duration_ms", 1.5),
        ("recording_min_duration_ms", True),
        ("session_recording", 1),
        ("recording_domains", ("https://ok.example", "javascript:alert(1)")),
        ("recording_domains", ("https://a.example",) * 51),
    ],
)
def test_a_setting_out_of_range_is_refused(name: str, value: Any):
    with pytest.raises(ValueError, match=name):
        check(name, value)
    with pytest.raises(ValueError, match=name):
        ProjectSettings(**{name: value})


# Reading: a malformed setting logs and serves its default; an unreadable key field is no key.


@pytest.mark.parametrize(
    ("name", "attribute"),
    [
        ("recording_min_duration_ms", {"N": "18446744073709551616"}),
        ("recording_min_duration_ms", {"N": "2.5"}),
        ("recording_sample_rate", {"N": "NaN"}),
        ("recording_sample_rate", {"S": "0.5"}),
        ("session_recording", {"S": "true"}),
        ("session_recording", {"N": "1"}),
        ("autocapture", {"NULL": True}),
        ("recording_domains", {"SS": ["https://a.example"]}),
        ("recording_domains", {"L": [{"N": "1"}]}),
        ("heatmaps", "not an attribute"),
    ],
)
def test_a_malformed_setting_in_an_item_serves_its_default(name: str, attribute: Any):
    item = {**project_key_item(DEMO_TOKEN, 1, "test"), name: attribute}
    assert getattr(ProjectSettings.from_item(item), name) == getattr(ProjectSettings(), name)
    app = CaptureApp()
    app.table.items[DEMO_TOKEN] = item
    assert app.request("GET", f"/array/{DEMO_TOKEN}/config").status == 200


@pytest.mark.parametrize(
    "field",
    [
        {"project_id": {"S": "1"}},
        {"project_id": {"N": "0"}},
        {"project_id": {"N": str(MAX_PROJECT_ID + 1)}},
        {"project_id": {"N": "1.5"}},
        {"revoked": {"S": "false"}},
        {"revoked": {"BOOL": "no"}},
        {"revoked": {"NULL": True}},
        {"kind": {"S": "project_key "}},
    ],
)
def test_a_key_item_with_a_field_that_cannot_be_read_is_no_key(field: dict[str, Any]):
    app = CaptureApp()
    app.table.items[DEMO_TOKEN] = {**project_key_item(DEMO_TOKEN, 1, "test"), **field}
    body = json.dumps({"api_key": DEMO_TOKEN, "event": "e", "distinct_id": "u"})
    answer = app.request("POST", "/capture/", body)
    assert (answer.status, answer.json()["code"]) == (401, "invalid_api_key")
    assert app.stored() == []


# The property: any item, straight into the table.

attribute_values = st.one_of(
    st.fixed_dictionaries({"S": st.text(max_size=20)}),
    st.fixed_dictionaries({"N": st.sampled_from(["1", "0", "-1", "1.5", "NaN", "1e400", str(2**64), "x"])}),
    st.fixed_dictionaries({"BOOL": st.one_of(st.booleans(), st.text(max_size=3), st.integers())}),
    st.fixed_dictionaries({"NULL": st.just(True)}),
    st.fixed_dictionaries({"L": st.lists(st.fixed_dictionaries({"S": st.text(max_size=30)}), max_size=3)}),
    st.fixed_dictionaries({"NS": st.lists(st.sampled_from(["1", "2", "x", "1.5"]), max_size=3)}),
    st.integers(),
    st.none(),
)
FIELDS = ["kind", "project_id", "revoked", "token", "name", "all_projects", "project_ids",
          *ProjectSettings.__dataclass_fields__]  # fmt: skip
EVENT = {"event": "e", "distinct_id": "u"}
ROUTES = [
    ("POST", "/capture/", lambda token: json.dumps({"api_key": token, **EVENT}), ""),
    ("POST", "/batch/", lambda token: json.dumps({"api_key": token, "batch": [EVENT]}), ""),
    ("GET", f"/array/{DEMO_TOKEN}/config", lambda token: None, ""),
    ("GET", f"/array/{DEMO_TOKEN}/config.js", lambda token: None, ""),
    ("POST", "/flags/", lambda token: json.dumps({"token": token}), "v=2&config=true"),
    ("POST", "/decide/", lambda token: json.dumps({"token": token}), "v=3"),
    ("GET", "/api/surveys/", lambda token: None, f"token={DEMO_TOKEN}"),
    ("GET", "/flags/definitions", lambda token: None, f"token={DEMO_TOKEN}"),
]  # fmt: skip


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(changes=st.dictionaries(st.sampled_from(FIELDS), attribute_values, max_size=6))
def test_no_item_turns_an_answer_into_a_500_or_lets_a_revoked_key_through(changes: dict[str, Any]):
    app = CaptureApp()
    item = {**project_key_item(DEMO_TOKEN, 1, "test"), **changes}
    app.table.items[DEMO_TOKEN] = {key: value for key, value in item.items() if value is not None}
    app.table.add_personal_key("phx_property", [1])
    # Absent, `revoked` is no claim (a project record has none); present, only `false` is live.
    revoked = item.get("revoked") or {"BOOL": False}
    bearer = {"Authorization": "Bearer phx_property"}
    for method, path, body, query in ROUTES:
        answer = app.request(method, path, body(DEMO_TOKEN), query=query, headers=bearer)
        assert answer.status < 500, (path, answer.body)
        if revoked != {"BOOL": False} and path in {"/capture/", "/batch/"}:
            assert answer.status == 401, (path, revoked)
    assert all(event["project_id"] == 1 for event in app.stored())


@pytest.mark.parametrize("project_id", [0, MAX_PROJECT_ID + 1, 2**64, "1e3", -1, True])
def test_a_project_id_a_client_sends_is_a_whole_number_from_1_to_2_53_minus_1(project_id: Any):
    app = CaptureApp()
    app.table.add_personal_key("phx_writer", None)
    body = {"api_key": "phx_writer", "project_id": project_id, "batch": [{"event": "e", "distinct_id": "u"}]}
    answer = app.request("POST", "/batch/", json.dumps(body))
    assert (answer.status, answer.json()["attr"]) == (400, "project_id")
