"""posthog-js at its default settings (only `api_host` changed) against the local stack, newest and
1.200 (the /decide era): nothing it asks is answered >= 400, its console stays clean, captures stay
gzip'd after the config arrives, pageviews and autocaptured clicks are stored, and a project's
settings (autocapture off, session recording on) reach the browser (SPEC §10, §12, §13)."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from capture_admin.store import KeyAdmin
from capture_core.auth.key_items import ProjectSettings
from capture_local import LocalStack, names
from support.js_sdk import require_chromium, require_js_sdks, running_driver

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]

CAPTURE_PATHS = {"/e/", "/i/v0/e/", "/e", "/i/v0/e", "/batch/"}


@pytest.fixture(autouse=True)
def _browser() -> None:
    require_js_sdks()
    require_chromium()


_projects = iter(range(700, 800))


def project(stack: LocalStack, **settings: Any) -> str:
    """A new project with these settings; returns its key."""
    admin = KeyAdmin(stack.client("dynamodb"), names.TABLE_NAME)
    return admin.create_project(next(_projects), "browser", ProjectSettings(**settings))


def run(stack: LocalStack, token: str, sdk: str, *flags: str) -> dict[str, Any]:
    user = f"web-{uuid.uuid4()}"
    arguments = ("--api-host", stack.api_url, "--token", token, "--distinct-id", user, "--sdk", sdk, *flags)
    with running_driver("browser_defaults.mjs", *arguments, timeout=90) as report:
        pass
    assert report["error"] is None, report
    report["user"] = user
    return report


def stored_for(stack: LocalStack, report: dict[str, Any]) -> list[dict[str, Any]]:
    ids = {report["ids"]["anonymous"], report["ids"]["identified"]}
    return [event for event in stack.read_events() if event["distinct_id"] in ids]


def assert_clean(report: dict[str, Any]) -> None:
    failed = [r for r in report["requests"] if r["status"] is None or r["status"] >= 400]
    assert failed == [], failed
    noisy = [m for m in report["console"] if m["type"] in {"error", "warning"}]
    assert noisy == [], noisy
    assert report["page_errors"] == []


def test_newest_posthog_js_at_default_settings(local_stack: LocalStack):
    report = run(local_stack, local_stack.token, "posthog-js")
    assert_clean(report)
    paths = [r["path"] for r in report["requests"]]
    assert f"/array/{local_stack.token}/config.js" in paths
    version = report["sdk_version"]
    # Lazy scripts of its own version, from this API.
    assert f"/static/{version}/surveys.js" in paths
    assert any(path == "/flags/" for path in paths)  # after identify
    captures = [r for r in report["requests"] if r["method"] == "POST" and r["path"] in CAPTURE_PATHS]
    assert captures
    assert all(r["gzip"] and r["content_type"].startswith("text/plain") for r in captures), captures
    names_stored = {event["event"] for event in stored_for(local_stack, report)}
    assert {"$pageview", "$autocapture", "$identify"} <= names_stored


def test_posthog_js_1200_at_default_settings(local_stack: LocalStack):
    report = run(local_stack, local_stack.token, "posthog-js-1200")
    assert_clean(report)
    decides = [r for r in report["requests"] if r["path"] == "/decide/"]
    assert decides
    assert all(r["status"] == 200 for r in decides)
    captures = [r for r in report["requests"] if r["method"] == "POST" and r["path"] in CAPTURE_PATHS]
    # After decide names gzip, every capture is gzip'd (compression=gzip-js).
    assert captures
    assert all(r["gzip"] for r in captures), captures
    names_stored = {event["event"] for event in stored_for(local_stack, report)}
    assert {"$pageview", "$autocapture"} <= names_stored


def test_a_project_with_autocapture_off_gets_no_autocaptured_clicks(local_stack: LocalStack):
    report = run(local_stack, project(local_stack, autocapture=False), "posthog-js")
    assert_clean(report)
    names_stored = {event["event"] for event in stored_for(local_stack, report)}
    assert "$pageview" in names_stored
    assert "$autocapture" not in names_stored


def test_a_project_that_records_sessions_gets_its_recordings_stored(local_stack: LocalStack):
    token = project(local_stack, session_recording=True)
    report = run(local_stack, token, "posthog-js", "--record")
    assert_clean(report)
    paths = [r["path"] for r in report["requests"]]
    assert f"/static/{report['sdk_version']}/lazy-recorder.js" in paths
    recordings = [
        event
        for event in local_stack.read_recordings()
        if event["properties"].get("$session_id") == report["ids"]["session"]
    ]
    assert recordings
    assert all(event["event"] == "$snapshot" and event["token"] == token for event in recordings)
    assert all(isinstance(event["properties"]["$snapshot_data"], list) for event in recordings)
