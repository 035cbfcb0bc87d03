"""What the SDKs and PostHog's snippet ask besides capture, remote config and flags (docs/protocol.md §10):
array.js, local evaluation's flag definitions, a flag's payload, the product lists."""

from __future__ import annotations

import pytest
from support.app import DEMO_TOKEN, CaptureApp

PERSONAL_KEY = "phx_local_evaluation_key"


@pytest.fixture
def app() -> CaptureApp:
    app = CaptureApp()
    app.table.add_personal_key(PERSONAL_KEY, [1])
    return app


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


# array.js: PostHog's HTML snippet loads the SDK from the API host.


def test_array_js_is_posthog_js_followed_by_the_projects_config(app: CaptureApp):
    answer = app.request("GET", f"/array/{DEMO_TOKEN}/array.js", headers={"Origin": "https://shop.example"})
    assert answer.status == 200
    assert answer.headers["Content-Type"].startswith("application/javascript")
    sdk, _, config = answer.body.rpartition("\n(function() {")
    assert "posthog" in sdk
    assert len(sdk) > 50_000  # the SDK itself, not a stub
    assert f'window._POSTHOG_REMOTE_CONFIG["{DEMO_TOKEN}"]' in config
    assert answer.headers["Access-Control-Allow-Origin"] == "https://shop.example"


def test_array_js_of_an_unknown_key_is_404(app: CaptureApp):
    answer = app.request("GET", "/array/phc_unknown/array.js")
    assert (answer.status, answer.json()["code"]) == (404, "not_found")


# Local evaluation (posthog-python and posthog-node with a personal API key).


@pytest.mark.parametrize("path", ["/flags/definitions", "/api/feature_flag/local_evaluation"])
def test_a_personal_key_scoped_to_the_project_reads_no_definitions(app: CaptureApp, path: str):
    answer = app.request("GET", path, query=f"token={DEMO_TOKEN}&send_cohorts", headers=bearer(PERSONAL_KEY))
    assert answer.status == 200
    assert answer.json() == {"flags": [], "group_type_mapping": {}, "cohorts": {}}


@pytest.mark.parametrize(
    ("query", "headers", "status"),
    [
        (f"token={DEMO_TOKEN}", {}, 401),  # no personal key
        (f"token={DEMO_TOKEN}", bearer(DEMO_TOKEN), 401),  # a project key is not a personal key
        (f"token={DEMO_TOKEN}", bearer("phx_unknown"), 401),
        ("token=phc_unknown", bearer(PERSONAL_KEY), 401),
        ("", bearer(PERSONAL_KEY), 401),
        ("token=phc%23x", bearer(PERSONAL_KEY), 400),
    ],
)
def test_definitions_are_for_a_personal_key_of_the_tokens_project_only(
    app: CaptureApp, query: str, headers: dict[str, str], status: int
):
    assert app.request("GET", "/flags/definitions", query=query, headers=headers).status == status


def test_a_personal_key_of_another_project_reads_no_definitions(app: CaptureApp):
    app.table.add_project("phc_other", 2)
    answer = app.request("GET", "/flags/definitions", query="token=phc_other", headers=bearer(PERSONAL_KEY))
    assert (answer.status, answer.json()["code"]) == (401, "invalid_api_key")


def test_a_flags_payload_is_404_naming_the_flag(app: CaptureApp):
    answer = app.request("GET", "/api/projects/@current/feature_flags/beta-banner/remote_config")
    assert (answer.status, answer.json()["code"]) == (404, "not_found")
    assert "beta-banner" in answer.json()["detail"]


# posthog-js's product lists.


@pytest.mark.parametrize(
    ("path", "key"),
    [
        ("/api/surveys/", "surveys"),
        ("/api/early_access_features/", "earlyAccessFeatures"),
        ("/api/product_tours/", "product_tours"),
        ("/api/web_experiments/", "experiments"),
    ],
)
def test_each_product_list_is_empty_under_the_key_posthog_js_reads(app: CaptureApp, path: str, key: str):
    origin = {"Origin": "https://shop.example"}
    answer = app.request("GET", path, query=f"token={DEMO_TOKEN}", headers=origin)
    assert (answer.status, answer.json()) == (200, {key: []})
    assert answer.headers["Access-Control-Allow-Origin"] == "https://shop.example"
    assert app.request("OPTIONS", path, headers=origin).status == 200
    assert app.request("GET", path, query="token=phc_unknown").status == 401
    assert app.request("GET", path).status == 401
