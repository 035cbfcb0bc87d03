"""Drop rules (docs/protocol.md §14): a project's listed distinct ids and event names are answered as stored
and not stored, in every lane, each counted per rule."""

from __future__ import annotations

import json
from typing import Any

import pytest
from capture_admin.cli import main
from capture_core.auth.key_items import ProjectSettings, project_key_item
from support.app import DEMO_TOKEN, CaptureApp, metric_totals, v1_headers

pytestmark = pytest.mark.usefixtures("fresh_metrics")
V1_HEADERS = v1_headers()


def counted(name: str) -> float:
    return metric_totals().get(name, 0)


def app_with_rules(**rules: Any) -> CaptureApp:
    app = CaptureApp()
    settings = ProjectSettings(session_recording=True, **rules)
    app.table.items[DEMO_TOKEN] = project_key_item(DEMO_TOKEN, 1, "test", settings)
    return app


def event(name: str, distinct_id: str) -> dict[str, Any]:
    return {"event": name, "distinct_id": distinct_id}


def test_v0_drops_exactly_the_events_the_rules_name_and_answers_200():
    app = app_with_rules(drop_distinct_ids=("bot-1", "a,b"), drop_event_names=("$mousemove",))
    batch = [event("clicked", "bot-1"), event("$mousemove", "u1"), event("clicked", "u1"),
             event("clicked", "a,b"), event("$pageview", "bot-10")]  # fmt: skip
    answer = app.request("POST", "/batch/", json.dumps({"api_key": DEMO_TOKEN, "batch": batch}))
    assert (answer.status, answer.json()) == (200, {"status": 1})
    assert [(e["event"], e["distinct_id"]) for e in app.stored()] == [
        ("clicked", "u1"),
        ("$pageview", "bot-10"),
    ]
    assert (counted("EventsDroppedByDistinctIdRule"), counted("EventsDroppedByEventNameRule")) == (2, 1)


def test_a_request_whose_every_event_is_dropped_is_200_and_sends_nothing():
    app = app_with_rules(drop_event_names=("spam",))
    answer = app.request("POST", "/e/", json.dumps([{**event("spam", "u"), "token": DEMO_TOKEN}]))
    assert answer.status == 200
    assert app.stored() == []


def test_capture_v1_answers_each_dropped_event_as_dropped_by_the_projects_rule():
    app = app_with_rules(drop_distinct_ids=("bot-1",))
    when = "2026-05-01T12:00:00.000Z"
    events = [
        {**event("e", distinct), "uuid": f"00000000-0000-4000-8000-00000000000{i}", "timestamp": when}
        for i, distinct in enumerate(("bot-1", "u1"))
    ]
    body = json.dumps({"created_at": "2026-05-01T12:00:00.000Z", "batch": events})
    answer = app.request("POST", "/i/v1/analytics/events", body, headers=V1_HEADERS)
    assert answer.json()["results"] == {
        events[0]["uuid"]: {"result": "drop", "details": "dropped_by_project_rule"},
        events[1]["uuid"]: {"result": "ok"},
    }
    assert [e["distinct_id"] for e in app.stored()] == ["u1"]


def test_recordings_of_a_dropped_distinct_id_are_dropped_too():
    app = app_with_rules(drop_distinct_ids=("bot-1",))
    snapshot = {"$snapshot_data": [{"type": 3, "data": {}}], "$session_id": "s-1", "token": DEMO_TOKEN}
    events = [
        {"event": "$snapshot", "properties": {**snapshot, "distinct_id": who}} for who in ("bot-1", "u1")
    ]
    answer = app.request("POST", "/s/", json.dumps(events), headers={"Content-Type": "text/plain"})
    assert answer.status == 200
    assert [e["distinct_id"] for e in app.stored_recordings()] == ["u1"]
    assert counted("RecordingEventsDroppedByDistinctIdRule") == 1


def test_without_rules_nothing_is_dropped():
    app = app_with_rules()
    app.request("POST", "/e/", json.dumps([{**event("$mousemove", "bot-1"), "token": DEMO_TOKEN}]))
    assert len(app.stored()) == 1


@pytest.mark.parametrize(
    "arguments",
    [
        ["--drop-distinct-id", "x" * 201],
        [arg for i in range(101) for arg in ("--drop-event-name", f"e{i}")],
    ],
)
def test_the_cli_refuses_rules_no_event_could_match_or_too_many(
    arguments: list[str], capsys: pytest.CaptureFixture[str]
):
    assert main(["--table", "no-such-table", "project-settings", "1", *arguments]) == 2
    assert "drop_" in capsys.readouterr().err
