"""posthog-js at its default settings (only `api_host` changed) against the local stack, newest and
1.200 (the /decide era): nothing it asks is answered >= 400, its console stays clean, captures stay
gzip'd after the config arrives, pageviews and autocaptured clicks are stored, and a project's
settings (autocapture off, session recording on) reach the browser (docs/protocol.md §10, §12, §13). A heavy
page's replay is stored whole, and events are answered 200 while Firehose throttles (docs/protocol.md §9)."""

from __future__ import annotations

import gzip
import json
import socket
import time
import urllib.request
import uuid
from pathlib import Path
from typing import Any

import pytest
from capture_admin import query
from capture_admin.store import KeyAdmin
from capture_core.auth.key_items import ProjectSettings
from capture_local import Exchange, LocalStack, names
from support import recordings
from support.exchanges import EVENT_PATHS, header, path, sent_events
from support.js_sdk import require_chromium, require_js_sdks, running_driver
from support.quotas import quota_project, within_quota

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]

GZIP_MAGIC = b"\x1f\x8b"
WAIT_S = 20
# How long posthog-js took at most to send an autocaptured click after the next captured event,
# with room to spare: a project with autocapture off is watched this long for one.
AUTOCAPTURE_LAG_S = 5
IDENTIFIED = frozenset({"$identify"})
CLICKED = frozenset({"$autocapture", "$identify"})


@pytest.fixture(autouse=True)
def _browser() -> None:
    require_js_sdks()
    require_chromium()


_projects = iter(range(700, 800))


def project(stack: LocalStack, **settings: Any) -> str:
    """A new project with these settings; returns its key."""
    admin = KeyAdmin(stack.client("dynamodb"), names.TABLE_NAME)
    return admin.create_project(next(_projects), "browser", ProjectSettings(**settings))


def sent_names(exchanges: list[Exchange]) -> set[str]:
    return {event.get("event") for _, event in sent_events(exchanges)}


def run(
    stack: LocalStack,
    token: str,
    sdk: str,
    *flags: str,
    wanted: frozenset[str] = frozenset(),
    settle_s: float = 0,
) -> dict[str, Any]:
    """The driver's report, plus `captures`: each event POST as the API received it (Chromium does
    not show a script's Blob bodies to the driver). posthog-js sends an autocaptured click some
    seconds after the events captured around it, so the page stays open until the API has received
    every event named in `wanted` (then `settle_s` seconds more)."""
    user = f"web-{uuid.uuid4()}"
    arguments = ("--api-host", stack.api_url, "--token", token, "--distinct-id", user, "--sdk", sdk, *flags)
    with stack.recording() as wire, running_driver("browser_defaults.mjs", *arguments, timeout=90) as report:
        if report["error"] is None:
            wire.wait_for(lambda exchanges: wanted <= sent_names(exchanges), WAIT_S)
            time.sleep(settle_s)
    assert report["error"] is None, report
    report["user"] = user
    report["captures"] = [
        exchange
        for exchange in wire.exchanges
        if exchange.method == "POST" and path(exchange).rstrip("/") in EVENT_PATHS
    ]
    report["recordings"] = [
        exchange
        for exchange in wire.exchanges
        if exchange.method == "POST" and path(exchange).rstrip("/") == "/s"
    ]
    # What the API said to a request it refused, and what it was sent: a failure names its cause.
    report["refused"] = [
        (exchange.target, exchange.status, exchange.response_body[:500], sent(exchange)[:2000])
        for exchange in wire.exchanges
        if exchange.status >= 400
    ]
    return report


def sent(exchange: Exchange) -> bytes:
    return gzip.decompress(exchange.body) if exchange.body[:2] == GZIP_MAGIC else exchange.body


def assert_all_gzipped(report: dict[str, Any]) -> None:
    captures = report["captures"]
    assert captures
    assert [(exchange.target, exchange.body[:2]) for exchange in captures] == [
        (exchange.target, GZIP_MAGIC) for exchange in captures
    ]


def stored_for(stack: LocalStack, report: dict[str, Any]) -> list[dict[str, Any]]:
    ids = {report["ids"]["anonymous"], report["ids"]["identified"]}
    return [event for event in stack.read_events() if event["distinct_id"] in ids]


def assert_clean(report: dict[str, Any]) -> None:
    failed = [r for r in report["requests"] if r["status"] is None or r["status"] >= 400]
    assert failed == [], (failed, report["refused"])
    noisy = [m for m in report["console"] if m["type"] in {"error", "warning"}]
    assert noisy == [], noisy
    assert report["page_errors"] == []


def test_newest_posthog_js_at_default_settings(local_stack: LocalStack):
    report = run(local_stack, local_stack.token, "posthog-js", wanted=CLICKED)
    assert_clean(report)
    paths = [r["path"] for r in report["requests"]]
    assert f"/array/{local_stack.token}/config.js" in paths
    version = report["sdk_version"]
    # Lazy scripts of its own version, from this API.
    assert f"/static/{version}/surveys.js" in paths
    assert any(path == "/flags/" for path in paths)  # after identify
    assert_all_gzipped(report)
    assert {header(exchange, "Content-Type") for exchange in report["captures"]} == {"text/plain"}
    names_stored = {event["event"] for event in stored_for(local_stack, report)}
    assert {"$pageview", "$autocapture", "$identify"} <= names_stored


def test_posthog_js_1200_at_default_settings(local_stack: LocalStack):
    report = run(local_stack, local_stack.token, "posthog-js-1200", wanted=CLICKED)
    assert_clean(report)
    decides = [r for r in report["requests"] if r["path"] == "/decide/"]
    assert decides
    assert all(r["status"] == 200 for r in decides)
    # After decide names gzip, every capture is gzip'd (compression=gzip-js).
    assert_all_gzipped(report)
    names_stored = {event["event"] for event in stored_for(local_stack, report)}
    assert {"$pageview", "$autocapture"} <= names_stored


@pytest.mark.parametrize("sdk", ["posthog-js", "posthog-js-1200"])
def test_a_project_with_autocapture_off_gets_no_autocaptured_clicks(local_stack: LocalStack, sdk: str):
    token = project(local_stack, autocapture=False)
    report = run(local_stack, token, sdk, wanted=IDENTIFIED, settle_s=AUTOCAPTURE_LAG_S)
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


def full_snapshots(stack: LocalStack, session: str) -> list[dict[str, Any]]:
    """The compressed full snapshots (rrweb type 2) stored for a session."""
    return [
        rrweb
        for event in stack.read_recordings()
        if event["properties"].get("$session_id") == session
        for rrweb in event["properties"]["$snapshot_data"]
        if rrweb.get("type") == 2 and isinstance(rrweb.get("data"), str)
    ]


def test_a_heavy_pages_replay_is_stored_though_its_full_snapshot_is_over_a_megabyte_compressed(
    local_stack: LocalStack,
):
    """posthog-js sends a full snapshot whole, however large; stored as JSON it is about twice its
    compressed size, past a Firehose record. Refused, the replay could not be played."""
    token = project(local_stack, session_recording=True)
    report = run(local_stack, token, "posthog-js", "--record", "--heavy-page", "2000000")
    assert_clean(report)
    session = report["ids"]["session"]
    deadline = time.monotonic() + WAIT_S
    while not (snapshots := full_snapshots(local_stack, session)) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert snapshots, "no full snapshot stored for the session"
    (snapshot,) = snapshots
    assert len(snapshot["data"]) > 1_000_000  # characters of gzip bytes: over a megabyte compressed
    page = json.dumps(recordings.decompressed(snapshot))
    assert "Warm socks" in page
    assert len(page) > 2_000_000


def test_while_firehose_throttles_every_call_posthog_js_is_answered_200_and_its_events_are_queried(
    local_stack: LocalStack, tmp_path: Path
):
    s3, stream = local_stack.client("s3"), local_stack.resources.stream()

    def direct_objects() -> int:
        listed = s3.list_objects_v2(Bucket=stream.bucket_name, Prefix="events/").get("Contents", [])
        return sum("/direct-" in entry["Key"] for entry in listed)

    before = direct_objects()
    with local_stack.faults.active(firehose="throttle"):
        report = run(local_stack, local_stack.token, "posthog-js", wanted=IDENTIFIED)
    assert direct_objects() > before
    assert_clean(report)  # every request answered below 400
    sent = {event["uuid"] for _, event in sent_events(report["captures"])}
    assert {exchange.status for exchange in report["captures"]} == {200}
    listed = ", ".join(f"'{value}'" for value in sorted(sent))
    found = query.local_session(tmp_path, local_stack.moto_url).sql(
        f"SELECT uuid, event FROM events WHERE uuid IN ({listed})"
    )
    rows = found.fetchall()
    assert {uuid for uuid, _ in rows} == sent
    assert {"$pageview", "$identify"} <= {name for _, name in rows}


def test_a_page_using_posthogs_snippet_loads_the_sdk_from_the_api_and_asks_its_products(
    local_stack: LocalStack,
):
    """PostHog's newer HTML snippet loads posthog-js from `<api_host>/array/<token>/array.js`; a
    page using early access features and surveys asks the API for them."""
    report = run(local_stack, local_stack.token, "posthog-js", "--snippet", "--products", wanted=IDENTIFIED)
    assert_clean(report)
    paths = {r["path"]: r["status"] for r in report["requests"]}
    assert paths[f"/array/{local_stack.token}/array.js"] == 200
    assert paths["/api/early_access_features/"] == paths["/api/surveys/"] == 200
    assert f"/array/{local_stack.token}/config.js" not in paths  # array.js carried the config
    assert report["products"] == [[], []]
    names_stored = {event["event"] for event in stored_for(local_stack, report)}
    assert {"$pageview", "$identify"} <= names_stored


def test_cookieless_visitors_are_told_apart_by_the_servers_hash(local_stack: LocalStack):
    """posthog-js with `cookieless_mode: "always"` keeps no cookie and sends every event as
    `$posthog_cookieless`; the server hashes the visitor's ids (docs/protocol.md §15). Two browsers with
    different user agents on one site are two visitors; a reload is the same visitor."""
    with socket.socket() as probe:  # a port for the page both visitors load
        probe.bind(("127.0.0.1", 0))
        port = str(probe.getsockname()[1])
    visitors = {}
    for name, agent, flags in (
        (
            "chrome",
            "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/156.0 Safari/537.36",
            ["--reload"],
        ),
        ("firefox", "Mozilla/5.0 (X11; Linux x86_64; rv:140.0) Gecko/20100101 Firefox/140.0", []),
    ):
        report = run(local_stack, local_stack.token, "posthog-js", "--cookieless", "--page-port", port,
                     "--user-agent", agent, *flags)  # fmt: skip
        assert_clean(report)
        assert report["ids"]["anonymous"] == "$posthog_cookieless"
        uuids = {event["uuid"] for _, event in sent_events(report["captures"])}
        stored = [event for event in local_stack.read_events() if event["uuid"] in uuids]
        assert {event["uuid"] for event in stored} == uuids
        visitors[name] = stored
    for stored in visitors.values():
        assert {event["distinct_id"] for event in stored} != {"$posthog_cookieless"}
        assert len({event["distinct_id"] for event in stored}) == 1  # the reload kept the visitor
        assert all(event["distinct_id"].startswith("cookieless_") for event in stored)
        assert all(event["ip"] is None and "$raw_user_agent" not in event["properties"] for event in stored)
    assert len([event for event in visitors["chrome"] if event["event"] == "$pageview"]) == 2
    chrome, firefox = (stored[0]["distinct_id"] for stored in visitors.values())
    assert chrome != firefox


def test_over_its_events_quota_a_project_stores_nothing_more_and_posthog_js_shows_no_error(
    local_stack: LocalStack,
):
    """A quota of 50 events: posthog-js at its defaults sends its own events, then 10 more at a
    time, each step once the one before was counted; the events of every request sent while the
    project was under 50 are stored, none after, and the page shows no error."""
    token = quota_project(local_stack, events=50)
    report = run(local_stack, token, "posthog-js", "--steps", "6")
    assert_clean(report)
    expected, dropped = within_quota(report["captures"], 50)
    assert dropped, "the page sent no event over the quota"
    stored = {event["uuid"] for event in local_stack.read_events() if event["token"] == token}
    assert stored == expected
    assert len(stored) >= 50


def test_over_its_recordings_quota_posthog_js_is_told_and_pauses_recording(local_stack: LocalStack):
    """A quota of one recorded session: the page's first recording is stored, the next answer says
    `quota_limited: ["recordings"]`, and posthog-js sends no recording after it; a page loaded
    afterwards is told recording is off."""
    token = quota_project(local_stack, recordings=1, session_recording=True)
    report = run(local_stack, token, "posthog-js", "--record", "--record-seconds", "8")
    assert_clean(report)
    answers = [json.loads(exchange.response_body) for exchange in report["recordings"]]
    limited = [answer.get("quota_limited") == ["recordings"] for answer in answers]
    # Stored until the session was counted; then told, once: posthog-js sends none for a minute.
    assert not limited[0], answers
    assert limited[-1], answers
    assert limited.count(True) == 1, answers
    assert all(exchange.status == 200 for exchange in report["recordings"])
    stored = [event for event in local_stack.read_recordings() if event["token"] == token]
    assert stored
    assert {event["properties"]["$session_id"] for event in stored} == {report["ids"]["session"]}
    config = json.loads(
        urllib.request.urlopen(f"{local_stack.api_url}/array/{token}/config", timeout=10).read()
    )
    assert config["sessionRecording"] is False
