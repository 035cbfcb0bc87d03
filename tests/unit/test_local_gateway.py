"""The local API Gateway emulation: routing, the proxy event, and API Gateway's own answers."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from typing import Any

import pytest
from capture_local.functions import ApiRoute, function_specs
from capture_local.gateway import (
    LAMBDA_MAX_EVENT_BYTES,
    Gateway,
    HttpRequest,
    MalformedProxyResponse,
    proxy_response_to_http,
)
from capture_local.gateway_responses import GatewayResponses
from capture_local.handlers import LocalFunction
from capture_local.names import DEFAULT_TEMPLATE
from capture_local.rest_event import build_rest_event
from capture_local.routing import RouteTable, path_parameters
from capture_local.template import Template


@pytest.fixture(scope="module")
def template() -> Template:
    return Template.load(DEFAULT_TEMPLATE)


@pytest.fixture(scope="module")
def routes(template: Template) -> RouteTable:
    return RouteTable.of(route for spec in function_specs(template) for route in spec.routes)


def reached(routes: RouteTable, path: str, method: str = "POST") -> tuple[str, str] | None:
    route = routes.match(method, path)
    return (route.resource, route.function) if route else None


# Routing


def test_a_route_is_reached_without_a_trailing_slash(routes: RouteTable):
    assert reached(routes, "/capture") == ("/capture", "CaptureFunction")


def test_one_trailing_slash_is_ignored(routes: RouteTable):
    assert reached(routes, "/batch/") == ("/batch", "BatchFunction")
    assert reached(routes, "/i/v0/e/") == ("/i/v0/e", "CaptureFunction")


def test_the_root_reaches_its_own_resource(routes: RouteTable):
    assert reached(routes, "/") == ("/", "CaptureFunction")


def test_unknown_paths_reach_the_greedy_proxy_resource(routes: RouteTable):
    assert reached(routes, "/unknown/deeper") == ("/{proxy+}", "CaptureFunction")


def test_literal_resources_win_over_the_greedy_one(routes: RouteTable):
    assert reached(routes, "/engage/", "GET") == ("/engage", "CaptureFunction")


def test_any_matches_every_method(routes: RouteTable):
    for method in ("GET", "POST", "OPTIONS", "DELETE", "HEAD"):
        assert reached(routes, "/batch", method) == ("/batch", "BatchFunction")


def test_a_resource_without_the_method_is_no_match():
    table = RouteTable.of([ApiRoute("/only-get", "GET", "F")])
    assert table.match("POST", "/only-get") is None
    assert table.match("GET", "/only-get/") == ApiRoute("/only-get", "GET", "F")


def test_a_path_no_resource_covers_is_no_match():
    table = RouteTable.of([ApiRoute("/capture", "ANY", "F")])
    assert table.match("POST", "/capture/more") is None


def test_greedy_parameters_keep_the_rest_of_the_path():
    assert path_parameters("/{proxy+}", "/a/b/") == {"proxy": "a/b/"}


def test_single_segment_parameters_stop_at_a_slash():
    assert path_parameters("/users/{id}", "/users/7/") == {"id": "7"}
    assert path_parameters("/users/{id}", "/users/7/x") is None


def test_literal_resources_have_no_path_parameters():
    assert path_parameters("/capture", "/capture/") is None


# The proxy event


def test_the_body_is_base64_with_every_media_type_binary():
    event = build_rest_event("POST", "/e/", headers={"Content-Type": "text/plain"}, body=b"\x1f\x8b\x08\x00")
    assert event["isBase64Encoded"] is True
    assert base64.b64decode(event["body"]) == b"\x1f\x8b\x08\x00"


def test_a_request_without_body_has_none():
    event = build_rest_event("GET", "/capture/")
    assert (event["body"], event["isBase64Encoded"]) == (None, False)


def test_text_media_types_pass_as_text_when_not_binary():
    event = build_rest_event(
        "POST", "/capture/", headers={"Content-Type": "application/json"}, body="{}", binary_media_types=()
    )
    assert (event["body"], event["isBase64Encoded"]) == ("{}", False)


def test_a_missing_content_type_matches_as_json():
    event = build_rest_event("POST", "/capture/", body="{}", binary_media_types=("application/json",))
    assert event["isBase64Encoded"] is True


def test_query_parameters_are_url_decoded_plus_included():
    event = build_rest_event("GET", "/e/", query="data=eyJ%2B%3D+x&compression=lz64&ip=1")
    assert event["queryStringParameters"] == {"data": "eyJ+= x", "compression": "lz64", "ip": "1"}


def test_repeated_query_parameters_keep_the_last_and_all():
    event = build_rest_event("GET", "/e/", query="?a=1&a=2&empty=")
    assert event["queryStringParameters"] == {"a": "2", "empty": ""}
    assert event["multiValueQueryStringParameters"] == {"a": ["1", "2"], "empty": [""]}


def test_no_query_string_gives_none():
    event = build_rest_event("GET", "/e/")
    assert event["queryStringParameters"] is None
    assert event["multiValueQueryStringParameters"] is None


def test_headers_keep_their_spelling_and_repeated_values():
    event = build_rest_event("POST", "/batch/", headers=[("Accept", "a"), ("accept", "b"), ("X-Custom", "1")])
    assert event["headers"]["Accept"] == "b"
    assert event["multiValueHeaders"]["Accept"] == ["a", "b"]
    assert event["headers"]["X-Custom"] == "1"


def test_the_caller_address_is_the_source_ip_and_appended_to_x_forwarded_for():
    event = build_rest_event(
        "POST",
        "/capture/",
        headers={"X-Forwarded-For": "203.0.113.9", "User-Agent": "sdk/1"},
        source_ip="10.0.0.2",
    )
    assert event["requestContext"]["identity"]["sourceIp"] == "10.0.0.2"
    assert event["requestContext"]["identity"]["userAgent"] == "sdk/1"
    assert event["headers"]["X-Forwarded-For"] == "203.0.113.9, 10.0.0.2"


def test_without_x_forwarded_for_the_header_is_the_caller():
    event = build_rest_event("POST", "/capture/", source_ip="10.0.0.2")
    assert event["headers"]["X-Forwarded-For"] == "10.0.0.2"


def test_the_request_context_names_resource_stage_and_time():
    now = datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)
    event = build_rest_event("post", "/batch/", request_id="req-1", now=now)
    context = event["requestContext"]
    assert (event["httpMethod"], event["resource"], event["path"]) == ("POST", "/batch", "/batch/")
    assert (context["resourcePath"], context["path"], context["stage"]) == (
        "/batch",
        "/local/batch/",
        "local",
    )
    assert context["requestId"] == "req-1"
    assert context["requestTimeEpoch"] == int(now.timestamp() * 1000)
    assert context["requestTime"] == "02/Jan/2025:03:04:05 +0000"
    assert event["stageVariables"] is None


def test_unknown_paths_get_the_proxy_resource_and_parameter_by_default():
    event = build_rest_event("POST", "/nope/x")
    assert (event["resource"], event["pathParameters"]) == ("/{proxy+}", {"proxy": "nope/x"})


# The proxy response


def test_a_proxy_response_merges_headers_preferring_multi_values():
    response = proxy_response_to_http(
        {
            "statusCode": 200,
            "headers": {"A": "1", "B": True},
            "multiValueHeaders": {"A": ["2", "3"]},
            "body": "x",
        },
        "req",
    )
    assert [value for name, value in response.headers if name == "A"] == ["2", "3"]
    assert ("B", "true") in response.headers
    assert ("Content-Type", "application/json") in response.headers
    assert ("x-amzn-RequestId", "req") in response.headers


def test_a_base64_proxy_response_body_is_decoded():
    response = proxy_response_to_http({"statusCode": 200, "body": "AAE=", "isBase64Encoded": True}, "req")
    assert response.body == b"\x00\x01"


@pytest.mark.parametrize(
    "result",
    [None, {"body": "x"}, {"statusCode": "abc"}, {"statusCode": 200, "body": 5}, {"statusCode": 99}],
)
def test_malformed_proxy_responses_are_refused(result: Any):
    with pytest.raises(MalformedProxyResponse):
        proxy_response_to_http(result, "req")


# API Gateway's own answers, from the template's GatewayResponse resources


def test_request_too_large_is_the_contract_error_with_cors(template: Template):
    answer = GatewayResponses.from_template(template).answer("REQUEST_TOO_LARGE", 413, "Request Too Long")
    body = json.loads(answer.body)
    assert answer.status == 413
    assert (body["type"], body["code"], body["attr"]) == ("validation_error", "request_too_large", None)
    assert answer.headers["Access-Control-Allow-Origin"] == "*"


def test_integration_failures_quote_the_message_as_json(template: Template):
    answer = GatewayResponses.from_template(template).answer("DEFAULT_5XX", 502, 'Internal "server" error')
    assert answer.status == 502
    assert json.loads(answer.body)["detail"] == 'Internal "server" error'
    assert answer.headers["Retry-After"] == "5"


def test_without_customisation_the_answer_is_api_gateways_message():
    answer = GatewayResponses({}).answer("MISSING_AUTHENTICATION_TOKEN", 403, "Missing Authentication Token")
    assert (answer.status, json.loads(answer.body)) == (403, {"message": "Missing Authentication Token"})


# The gateway around a function


def gateway_with(template: Template, handler: Any) -> Gateway:
    specs = function_specs(template)
    functions = {spec.logical_id: LocalFunction(spec, handler, "us-east-1") for spec in specs}
    routes = RouteTable.of(route for spec in specs for route in spec.routes)
    return Gateway(routes, functions, GatewayResponses.from_template(template))


def request(method: str = "POST", target: str = "/batch/", body: bytes = b"{}") -> HttpRequest:
    return HttpRequest(method, target, [("Content-Type", "text/plain")], body, "192.0.2.1")


def test_the_function_gets_the_event_and_a_context_sized_from_the_template(template: Template):
    seen: dict[str, Any] = {}

    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        seen.update(event=event, context=context)
        return {"statusCode": 200, "body": "ok"}

    response = gateway_with(template, handler).handle(request(target="/batch/?a=1"))
    assert (response.status, response.body) == (200, b"ok")
    assert seen["event"]["queryStringParameters"] == {"a": "1"}
    assert seen["event"]["requestContext"]["identity"]["sourceIp"] == "192.0.2.1"
    context = seen["context"]
    assert (context.function_name, context.memory_limit_in_mb) == ("BatchFunction", "1024")
    assert 29_000 < context.get_remaining_time_in_millis() <= 30_000
    assert context.aws_request_id == seen["event"]["requestContext"]["requestId"]


def test_a_handler_exception_is_a_502_internal_server_error(
    template: Template, capsys: pytest.CaptureFixture[str]
):
    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        raise RuntimeError("boom")

    response = gateway_with(template, handler).handle(request())
    assert response.status == 502
    assert json.loads(response.body)["detail"] == "Internal server error"
    assert "RuntimeError: boom" in capsys.readouterr().err


def test_a_malformed_response_is_a_502(template: Template):
    response = gateway_with(template, lambda event, context: {"body": "no status"}).handle(request())
    assert response.status == 502


def test_an_event_over_lambdas_payload_limit_is_refused_before_the_function(template: Template):
    calls = []
    gateway = gateway_with(template, lambda event, context: calls.append(event))
    response = gateway.handle(request(body=b"x" * (LAMBDA_MAX_EVENT_BYTES // 4 * 3 + 1)))
    assert (response.status, calls) == (500, [])
