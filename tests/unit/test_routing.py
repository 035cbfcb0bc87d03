"""One 404/405 rule for every route, and HEAD wherever GET is: a path no route takes is 404; a
path some route takes answers 405 to another method, naming its methods in `Allow`."""

from __future__ import annotations

import pytest
from support.app import DEMO_TOKEN, CaptureApp


@pytest.fixture
def app() -> CaptureApp:
    return CaptureApp()


@pytest.mark.parametrize(
    "path",
    [
        "/array/phc_x/unknown",
        f"/array/{DEMO_TOKEN}/config.json",
        "/array/",
        "/static/1.2.3/a/b/c.js",
        "/static/",
        "/nothing/here",
        "/capture/extra",
    ],
)
def test_a_path_no_route_takes_is_404_whatever_the_method(app: CaptureApp, path: str):
    for method in ("GET", "POST", "DELETE"):
        answer = app.request(method, path)
        assert (answer.status, answer.json()["code"]) == (404, "not_found"), (method, path)
        assert "Allow" not in answer.headers


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("DELETE", "/capture/", "GET, HEAD, POST, OPTIONS"),
        ("PUT", "/batch", "GET, HEAD, POST, OPTIONS"),
        ("PATCH", "/s/", "POST, OPTIONS"),
        ("POST", f"/array/{DEMO_TOKEN}/config", "GET, HEAD, OPTIONS"),
        ("DELETE", f"/array/{DEMO_TOKEN}/config.js", "GET, HEAD, OPTIONS"),
        ("POST", "/static/1.449.2/surveys.js", "GET, HEAD, OPTIONS"),
        ("PUT", "/flags/", "GET, HEAD, POST, OPTIONS"),
        ("POST", "/_health", "GET, HEAD"),
    ],
)
def test_a_known_path_answers_405_naming_its_methods(app: CaptureApp, method: str, path: str, allowed: str):
    answer = app.request(method, path)
    assert (answer.status, answer.json()["code"]) == (405, "method_not_allowed")
    assert answer.headers["Allow"] == allowed
    assert allowed in answer.json()["detail"]
    assert "Retry-After" not in answer.headers


def test_capture_v1_names_its_methods_in_its_own_format(app: CaptureApp):
    answer = app.request("GET", "/i/v1/analytics/events")
    assert (answer.status, answer.json()["error"]) == (405, "method_not_allowed")
    assert answer.headers["Allow"] == "POST, OPTIONS"


def test_capture_v1_answers_a_preflight(app: CaptureApp):
    answer = app.request(
        "OPTIONS",
        "/i/v1/analytics/events",
        headers={"Origin": "https://app.example", "Access-Control-Request-Headers": "content-type"},
    )
    assert answer.status == 200
    assert answer.headers["Access-Control-Allow-Origin"] == "https://app.example"
    assert answer.headers["Access-Control-Allow-Headers"] == "content-type"


@pytest.mark.parametrize(
    "path",
    [
        f"/array/{DEMO_TOKEN}/config",
        f"/array/{DEMO_TOKEN}/config.js",
        "/static/1.449.2/surveys.js",
        f"/flags/?v=2&token={DEMO_TOKEN}",
        "/_health",
        f"/capture/?data=%7B%22api_key%22%3A%22{DEMO_TOKEN}%22%2C%22event%22%3A%22e%22%2C%22distinct_id%22%3A%22u%22%7D",
    ],
)
def test_head_answers_as_get_without_a_body(app: CaptureApp, path: str):
    target, _, query = path.partition("?")
    get, head = app.request("GET", target, query=query), app.request("HEAD", target, query=query)
    assert get.status == head.status
    assert get.body
    assert head.body == ""
    assert head.headers["Content-Type"] == get.headers["Content-Type"]
    assert head.headers.get("Cache-Control") == get.headers.get("Cache-Control")
