"""docs/protocol.md §10, §13: remote config follows the project's settings, flags are always "none", scripts
are served per posthog-js version."""

from __future__ import annotations

import base64
import gzip
import json
from pathlib import Path

import pytest
from capture_core.auth.key_items import ProjectSettings, project_key_item
from capture_core.settings import Settings
from support.app import DEMO_TOKEN, CaptureApp


@pytest.fixture
def app() -> CaptureApp:
    return CaptureApp()


def config(app: CaptureApp, token: str = DEMO_TOKEN) -> dict:
    answer = app.request("GET", f"/array/{token}/config")
    assert answer.status == 200, answer.body
    return answer.json()


def with_settings(**settings: object) -> CaptureApp:
    app = CaptureApp()
    app.table.items[DEMO_TOKEN] = project_key_item(DEMO_TOKEN, 1, "test", ProjectSettings(**settings))
    return app


def test_a_new_project_autocaptures_and_records_nothing(app: CaptureApp):
    answer = config(app)
    assert (answer["autocapture_opt_out"], answer["sessionRecording"], answer["heatmaps"]) == (
        False,
        False,
        False,
    )
    assert answer["supportedCompression"] == ["gzip", "gzip-js"]
    assert answer["hasFeatureFlags"] is False


@pytest.mark.parametrize(
    ("setting", "field", "value"),
    [
        ("autocapture", "autocapture_opt_out", True),
        ("heatmaps", "heatmaps", True),
        ("dead_clicks", "captureDeadClicks", True),
        ("exception_autocapture", "autocaptureExceptions", True),
    ],
)
def test_each_setting_reaches_the_config(setting: str, field: str, value: bool):
    flipped = not getattr(ProjectSettings(), setting)
    assert config(with_settings(**{setting: flipped}))[field] is value


@pytest.mark.parametrize(("network_timing", "web_vitals"), [(True, False), (False, True), (True, True)])
def test_network_timing_and_web_vitals_are_apart(network_timing: bool, web_vitals: bool):
    app = with_settings(capture_performance_opt_in=network_timing, autocapture_web_vitals_opt_in=web_vitals)
    performance = config(app)["capturePerformance"]
    assert (performance["network_timing"], performance["web_vitals"]) == (network_timing, web_vitals)
    assert config(with_settings())["capturePerformance"] is False


def test_an_item_from_before_the_split_keeps_both_on():
    app = CaptureApp()
    item = project_key_item(DEMO_TOKEN, 1, "test")
    for name in ("capture_performance_opt_in", "autocapture_web_vitals_opt_in"):
        del item[name]
    item["capture_performance"] = {"BOOL": True}
    app.table.items[DEMO_TOKEN] = item
    performance = config(app)["capturePerformance"]
    assert (performance["network_timing"], performance["web_vitals"]) == (True, True)


def test_console_log_recording_can_be_turned_off():
    on = config(with_settings(session_recording=True))["sessionRecording"]
    off = config(with_settings(session_recording=True, capture_console_log_opt_in=False))["sessionRecording"]
    assert (on["consoleLogRecordingEnabled"], off["consoleLogRecordingEnabled"]) == (True, False)


@pytest.mark.parametrize(
    ("headers", "records"),
    [
        ({"Origin": "https://app.example.com"}, True),
        ({"Origin": "https://shop.example.org"}, True),  # *.example.org
        ({"Referer": "https://app.example.com/checkout?x=1"}, True),
        ({"Origin": "https://evil.example"}, False),
        ({"Origin": "http://app.example.com"}, False),  # another scheme
        ({"Origin": "https://app.example.com.evil.example"}, False),
        ({}, False),  # a request that names no page
    ],
)
def test_recording_is_on_only_for_pages_on_the_projects_recording_domains(headers: dict, records: bool):
    app = with_settings(
        session_recording=True, recording_domains=("https://app.example.com", "https://*.example.org")
    )
    answer = app.request("GET", f"/array/{DEMO_TOKEN}/config", headers=headers)
    assert (answer.json()["sessionRecording"] is not False) == records
    assert answer.headers["Vary"] == "Origin"
    flags = app.request("POST", "/flags/", f'{{"token": "{DEMO_TOKEN}"}}', headers=headers).json()
    assert (flags["sessionRecording"] is not False) == records


def test_without_recording_domains_every_page_records():
    app = with_settings(session_recording=True)
    assert config(app)["sessionRecording"] is not False


def test_exception_autocapture_reaches_error_tracking_too():
    assert config(with_settings(exception_autocapture=True))["errorTracking"]["autocaptureExceptions"] is True


def test_a_warm_container_reads_no_key_twice(app: CaptureApp):
    for _ in range(5):
        config(app)
    app.request("POST", "/flags/", json.dumps({"token": DEMO_TOKEN}), query="v=2")
    assert app.table.get_item_calls == 1


def test_config_is_cacheable_for_a_few_minutes(app: CaptureApp):
    answer = app.request("GET", f"/array/{DEMO_TOKEN}/config")
    assert answer.headers["Cache-Control"] == f"public, max-age={Settings().remote_config_max_age_seconds}"


def test_config_script_hands_the_config_to_posthog_js(app: CaptureApp):
    answer = app.request("GET", f"/array/{DEMO_TOKEN}/config.js")
    assert answer.headers["Content-Type"].startswith("application/javascript")
    assignment = f'window._POSTHOG_REMOTE_CONFIG["{DEMO_TOKEN}"] = '
    assert assignment in answer.body
    document = json.loads(answer.body.split(assignment, 1)[1].rsplit(";", 2)[0])
    assert document == {"config": config(app), "siteApps": []}


def test_a_revoked_key_has_no_config(app: CaptureApp):
    app.table.items[DEMO_TOKEN]["revoked"] = {"BOOL": True}
    answer = app.request("GET", f"/array/{DEMO_TOKEN}/config")
    assert (answer.status, answer.json()["code"]) == (404, "not_found")


def test_a_personal_key_has_no_config(app: CaptureApp):
    app.table.add_personal_key("phx_ops", [1])
    assert app.request("GET", "/array/phx_ops/config").status == 404


@pytest.mark.parametrize("path", [f"/array/{DEMO_TOKEN}/config", "/flags/", "/decide/", "/static/surveys.js"])
def test_every_answer_and_preflight_carries_cors(app: CaptureApp, path: str):
    origin = {"Origin": "https://shop.example"}
    for method in ("GET", "OPTIONS"):
        answer = app.request(method, path, headers=origin, query=f"token={DEMO_TOKEN}")
        assert answer.headers["Access-Control-Allow-Origin"] == "https://shop.example", (
            method,
            answer.status,
        )


@pytest.mark.parametrize("version", ["1", "2", "3", "4", "", "x"])
def test_flags_never_err_whatever_the_version(app: CaptureApp, version: str):
    answer = app.request("POST", "/flags/", json.dumps({"token": DEMO_TOKEN}), query=f"v={version}")
    assert answer.status == 200
    assert answer.json()["errorsWhileComputingFlags"] is False


@pytest.mark.parametrize(
    ("query", "shape"),
    [
        ("", "v2 and config"),
        ("v=1", "legacy"),
        ("v=x", "legacy"),
        ("v=2", "v2"),
        ("v=3&config=true", "v2 and config"),
        ("v=4", "v2"),
    ],
)
def test_each_flags_version_gets_posthogs_shape(app: CaptureApp, query: str, shape: str):
    answer = app.request("POST", "/flags/", json.dumps({"token": DEMO_TOKEN}), query=query).json()
    assert isinstance(answer["requestId"], str)
    assert isinstance(answer["evaluatedAt"], int)
    if shape == "legacy":
        assert (answer["featureFlags"], answer["featureFlagPayloads"]) == ({}, {})
        assert "flags" not in answer
    else:
        assert answer["flags"] == {}
        assert "featureFlags" not in answer
    assert ("supportedCompression" in answer) == shape.endswith("config")


@pytest.mark.parametrize(
    ("query", "flags"),
    [
        ("", {"featureFlags": []}),
        ("v=1", {"featureFlags": []}),
        ("v=2", {"featureFlags": {}}),
        ("v=3", {"featureFlags": {}, "featureFlagPayloads": {}}),
        ("v=4", {"flags": {}}),
    ],
)
def test_each_decide_version_gets_its_shape_with_the_config(app: CaptureApp, query: str, flags: dict):
    answer = app.request("POST", "/decide/", json.dumps({"token": DEMO_TOKEN}), query=query).json()
    assert {key: answer[key] for key in flags} == flags
    for other in {"featureFlags", "featureFlagPayloads", "flags"} - set(flags):
        assert other not in answer
    assert answer["supportedCompression"] == ["gzip", "gzip-js"]
    assert answer["errorsWhileComputingFlags"] is False


@pytest.mark.parametrize("path", ["/flags/", "/decide/"])
def test_a_get_without_any_token_gets_an_empty_answer_not_401(app: CaptureApp, path: str):
    for method in ("GET", "HEAD"):
        answer = app.request(method, path, query="v=2")
        assert answer.status == 200, (method, answer.body)
    body = app.request("GET", path, query="v=2").json()
    assert body["errorsWhileComputingFlags"] is False
    assert "supportedCompression" not in body  # no project, no config
    assert app.request("POST", path, "{}", query="v=2").status == 401
    assert app.request("GET", path, query="v=2&token=phc_unknown").status == 401


def test_flags_read_gzip_and_base64_forms_as_capture_does(app: CaptureApp):
    body = {"token": DEMO_TOKEN, "distinct_id": "u"}
    gzipped = app.request("POST", "/flags/", gzip.compress(json.dumps(body).encode()), query="v=2")
    form = "data=" + base64.b64encode(json.dumps(body).encode()).decode()
    formed = app.request(
        "POST", "/flags/", form, query="v=2", headers={"Content-Type": "application/x-www-form-urlencoded"}
    )
    assert (gzipped.status, formed.status) == (200, 200)


def test_flags_take_a_bearer_key(app: CaptureApp):
    answer = app.request(
        "POST", "/flags/", "{}", query="v=2", headers={"Authorization": f"Bearer {DEMO_TOKEN}"}
    )
    assert answer.status == 200


def test_flags_answers_are_never_cached(app: CaptureApp):
    answer = app.request("POST", "/flags/", json.dumps({"token": DEMO_TOKEN}), query="v=2")
    assert answer.headers["Cache-Control"] == "private, no-store"


# posthog-js's scripts


@pytest.fixture
def assets(tmp_path: Path) -> Path:
    for version, names in (
        ("1.449.2", ["surveys.js", "lazy-recorder.js"]),
        ("1.200.2", ["surveys.js", "recorder.js"]),
    ):
        folder = tmp_path / version
        folder.mkdir()
        for name in names:
            (folder / name).write_text(f"/* {version} {name} */")
        (folder / "files.json").write_text(json.dumps(names))
    return tmp_path


def with_assets(assets: Path) -> CaptureApp:
    return CaptureApp(settings=Settings(static_assets_dir=str(assets)))


def script(app: CaptureApp, path: str, query: str = "") -> tuple[int, str, dict[str, str]]:
    answer = app.request("GET", path, query=query)
    return answer.status, answer.body, answer.headers


def test_a_client_gets_its_own_versions_script(assets: Path):
    app = with_assets(assets)
    assert script(app, "/static/surveys.js", "v=1.200.2")[1] == "/* 1.200.2 surveys.js */"
    status, body, headers = script(app, "/static/1.449.2/lazy-recorder.js")
    assert (status, body) == (200, "/* 1.449.2 lazy-recorder.js */")
    assert "immutable" in headers["Cache-Control"]


def test_another_version_gets_the_newest_script_for_a_while(assets: Path):
    status, body, headers = script(with_assets(assets), "/static/surveys.js", "v=1.300.0")
    assert (status, body) == (200, "/* 1.449.2 surveys.js */")
    assert headers["Cache-Control"] == "public, max-age=3600"


def test_another_version_is_redirected_to_the_chosen_asset_host(assets: Path):
    app = CaptureApp(
        settings=Settings(
            static_assets_dir=str(assets), static_assets_fallback_host="us-assets.i.posthog.com"
        )
    )
    status, _, headers = script(app, "/static/surveys.js", "v=1.300.0")
    assert (status, headers["Location"]) == (
        302,
        "https://us-assets.i.posthog.com/static/surveys.js?v=1.300.0",
    )
    assert script(app, "/static/surveys.js", "v=1.449.2")[0] == 200  # its own versions stay here


@pytest.mark.parametrize(
    "path", ["/static/nothing.js", "/static/..%2Fsecrets.js", "/static/1.449.2/files.json"]
)
def test_unknown_or_odd_names_are_404(assets: Path, path: str):
    assert script(with_assets(assets), path)[0] == 404


def test_scripts_are_gzipped_for_clients_that_accept_it(assets: Path):
    answer = with_assets(assets).request(
        "GET", "/static/1.449.2/surveys.js", headers={"Accept-Encoding": "gzip, br"}
    )
    assert (answer.headers["Content-Encoding"], answer.headers["Vary"]) == ("gzip", "Origin, Accept-Encoding")


def test_every_posthog_js_version_the_tests_drive_is_served_from_this_apis_assets():
    from capture_admin.assets import pinned_versions

    package = json.loads((Path(__file__).resolve().parents[1] / "sdk" / "js" / "package.json").read_text())
    driven = {
        spec.rpartition("@")[2] for name, spec in package["dependencies"].items() if "posthog-js" in name
    }
    assert driven <= set(pinned_versions())
    assert pinned_versions()[0] == max(pinned_versions(), key=lambda v: tuple(map(int, v.split("."))))
