"""The local API Gateway emulation: routing, the proxy event, API Gateway's own answers, the
function around its handler, and the one log line per request."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from typing import Any

import pytest
from capture_core.limits import LAMBDA_MAX_EVENT_BYTES
from capture_local.exchanges import Recorder, Request, header
from capture_local.functions import function_specs
from capture_local.gateway import Gateway, proxy_response
from capture_local.gateway_responses import GatewayResponses
from capture_local.handlers import LocalFunction
from capture_local.names import DEFAULT_TEMPLATE
from capture_local.rest_event import build_rest_event
from capture_local.routing import Route, RouteMap, path_parameters
from capture_local.template import Template, TemplateError
from werkzeug.test import Client

ORIGIN = ("Origin", "https://app.example")


@pytest.fixture(scope="module")
def template() -> Template:
    return Template.load(DEFAULT_TEMPLATE)


@pytest.fixture(scope="module")
def routes(template: Template) -> RouteMap:
    return RouteMap(
        Route(path, spec.logical_id) for spec in function_specs(template) for path in spec.resources
    )


@pytest.fixture(scope="module")
def responses(template: Template) -> GatewayResponses:
    return GatewayResponses.from_template(template)


def reached(routes: RouteMap, path: str) -> tuple[str, str] | None:
    route = routes.match(path)
    return (route.resource, route.function) if route else None


# Routing


def test_a_route_is_reached_without_a_trailing_slash(routes: RouteMap):
    assert reached(routes, "/capture") == ("/capture", "CaptureFunction")


def test_one_trailing_slash_is_ignored(routes: RouteMap):
    assert reached(routes, "/batch/") == ("/batch", "BatchFunction")
    assert reached(routes, "/i/v0/e/") == ("/i/v0/e", "CaptureFunction")


def test_the_root_reaches_its_own_resource(routes: RouteMap):
    assert reached(routes, "/") == ("/", "CaptureFunction")


def test_unknown_paths_reach_the_greedy_proxy_resource(routes: RouteMap):
    assert reached(routes, "/unknown/deeper") == ("/{proxy+}", "CaptureFunction")


def test_literal_resources_win_over_the_greedy_one(routes: RouteMap):
    assert reached(routes, "/engage/") == ("/engage", "CaptureFunction")


def test_the_longest_greedy_prefix_wins():
    table = RouteMap(
        [Route("/{proxy+}", "Any"), Route("/static/{proxy+}", "S"), Route("/static/v/{proxy+}", "V")]
    )
    assert table.match("/static/v/a.js") == Route("/static/v/{proxy+}", "V")
    assert table.match("/static/a.js") == Route("/static/{proxy+}", "S")
    assert table.match("/other") == Route("/{proxy+}", "Any")


def test_a_greedy_resource_needs_something_after_its_prefix():
    table = RouteMap([Route("/array/{proxy+}", "A")])
    assert table.match("/array/") is None
    assert table.match("/array/phc_x/config") == Route("/array/{proxy+}", "A")


def test_a_path_no_resource_covers_is_no_match():
    assert RouteMap([Route("/capture", "F")]).match("/capture/more") is None


def test_single_segment_path_parameters_are_refused_by_name():
    with pytest.raises(TemplateError, match=r"/users/\{id\}"):
        RouteMap([Route("/users/{id}", "F")])


def test_greedy_parameters_keep_the_rest_of_the_path():
    assert path_parameters("/{proxy+}", "/a/b/") == {"proxy": "a/b/"}
    assert path_parameters("/static/{proxy+}", "/static/1.2/x.js") == {"proxy": "1.2/x.js"}


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
    response = proxy_response(
        {
            "statusCode": 200,
            "headers": {"A": "1", "B": "2"},
            "multiValueHeaders": {"A": ["2", "3"]},
            "body": "x",
        },
        "req",
    )
    assert [value for name, value in response.headers if name == "A"] == ["2", "3"]
    assert ("B", "2") in response.headers
    assert ("Content-Type", "application/json") in response.headers
    assert ("x-amzn-RequestId", "req") in response.headers


def test_a_base64_proxy_response_body_is_decoded():
    response = proxy_response({"statusCode": 200, "body": "AAE=", "isBase64Encoded": True}, "req")
    assert response.body == b"\x00\x01"


# API Gateway's own answers, from the template's GatewayResponse resources


def test_request_too_large_is_the_contract_error_with_cors(responses: GatewayResponses):
    answer = responses.render("REQUEST_TOO_LARGE", 413, "Request Too Long", [ORIGIN])
    body = json.loads(answer.body)
    assert answer.status == 413
    assert (body["type"], body["code"], body["attr"]) == ("validation_error", "request_too_large", None)
    assert header(answer.headers, "Access-Control-Allow-Origin") == "https://app.example"
    assert header(answer.headers, "Access-Control-Allow-Credentials") == "true"
    assert header(answer.headers, "Vary") == "Origin"
    assert header(answer.headers, "Retry-After") is None


def test_a_mapped_request_header_the_request_lacks_is_omitted(responses: GatewayResponses):
    answer = responses.render("REQUEST_TOO_LARGE", 413, "Request Too Long")
    assert header(answer.headers, "Access-Control-Allow-Origin") is None
    assert header(answer.headers, "Vary") == "Origin"


@pytest.mark.parametrize(
    "origin", ["https://a.example\r\nSet-Cookie: x=1", "https://a.example\x00", "\x1b[31m"]
)
def test_an_origin_with_control_characters_is_never_reflected(responses: GatewayResponses, origin: str):
    answer = responses.render("THROTTLED", 429, "Too Many Requests", [("Origin", origin)])
    assert header(answer.headers, "Access-Control-Allow-Origin") is None


def test_the_template_sets_the_status_and_retry_after_of_throttling(responses: GatewayResponses):
    answer = responses.render("THROTTLED", 429, "Too Many Requests", [ORIGIN])
    assert (answer.status, json.loads(answer.body)["code"]) == (429, "rate_limited")
    assert header(answer.headers, "Retry-After") == "1"


def test_message_string_is_the_message_quoted_as_json(responses: GatewayResponses):
    answer = responses.render("DEFAULT_4XX", 403, 'Forbidden "here"')
    assert answer.status == 400
    assert json.loads(answer.body)["detail"] == 'Forbidden "here"'


def test_an_uncustomised_type_takes_its_groups_customisation(responses: GatewayResponses):
    assert responses.render("WAF_FILTERED", 403, "Forbidden").status == 400
    assert responses.render("INTEGRATION_TIMEOUT", 504, "Endpoint request timed out").status == 504


def test_without_any_customisation_the_answer_is_api_gateways_message():
    answer = GatewayResponses({}).render("MISSING_AUTHENTICATION_TOKEN", 403, "Missing Authentication Token")
    assert (answer.status, json.loads(answer.body)) == (403, {"message": "Missing Authentication Token"})


def test_a_header_mapping_that_is_not_emulated_is_refused_by_name(tmp_path: Any):
    path = tmp_path / "template.yaml"
    path.write_text(
        "Resources:\n  R:\n    Type: AWS::ApiGateway::GatewayResponse\n    Properties:\n"
        "      ResponseType: DEFAULT_4XX\n"
        "      ResponseParameters: {gatewayresponse.header.X: context.requestId}\n"
    )
    with pytest.raises(TemplateError, match=r"context\.requestId"):
        GatewayResponses.from_template(Template.load(path))


# The gateway around a function


def gateway_with(template: Template, handler: Any, **options: Any) -> Gateway:
    specs = function_specs(template)
    functions = {spec.logical_id: LocalFunction(spec, handler, "us-east-1") for spec in specs}
    routes = RouteMap(Route(path, spec.logical_id) for spec in specs for path in spec.resources)
    return Gateway(routes, functions, GatewayResponses.from_template(template), **options)


def request(method: str = "POST", target: str = "/batch/", body: bytes = b"{}") -> Request:
    return Request(method, target, [("Content-Type", "text/plain"), ORIGIN], body, "192.0.2.1")


def ok(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return {"statusCode": 200, "body": "ok"}


def test_the_function_gets_the_event_and_a_context_sized_from_the_template(template: Template):
    seen: dict[str, Any] = {}

    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        seen.update(event=event, context=context)
        return {"statusCode": 200, "body": "ok"}

    response, _ = gateway_with(template, handler).handle(request(target="/batch/?a=1"))
    assert (response.status, response.body) == (200, b"ok")
    assert seen["event"]["queryStringParameters"] == {"a": "1"}
    assert seen["event"]["requestContext"]["identity"]["sourceIp"] == "192.0.2.1"
    context = seen["context"]
    assert (context.function_name, context.memory_limit_in_mb) == ("BatchFunction", "1024")
    assert 29_000 < context.get_remaining_time_in_millis() <= 30_000
    assert context.aws_request_id == seen["event"]["requestContext"]["requestId"]


def test_a_handler_exception_is_the_default_5xx_answer_and_one_line_on_stderr(
    template: Template, capsys: pytest.CaptureFixture[str]
):
    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        raise RuntimeError("boom")

    response, _ = gateway_with(template, handler).handle(request())
    assert (response.status, json.loads(response.body)["code"]) == (504, "timeout")
    assert header(response.headers, "Access-Control-Allow-Origin") == "https://app.example"
    (line,) = capsys.readouterr().err.splitlines()
    assert "BatchFunction raised RuntimeError: boom" in line


def test_a_handler_exception_shows_its_traceback_when_verbose(
    template: Template, capsys: pytest.CaptureFixture[str]
):
    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        raise RuntimeError("boom")

    gateway_with(template, handler, verbose=True).handle(request())
    assert "Traceback" in capsys.readouterr().err


def test_an_event_over_lambdas_payload_limit_is_a_413_before_the_function(template: Template):
    calls = []
    gateway = gateway_with(template, lambda event, context: calls.append(event))
    response, _ = gateway.handle(request(body=b"x" * (LAMBDA_MAX_EVENT_BYTES // 4 * 3 + 1)))
    assert (response.status, json.loads(response.body)["code"], calls) == (413, "request_too_large", [])
    assert header(response.headers, "Retry-After") is None


@pytest.mark.parametrize("method", ["TRACE", "CONNECT", "PROPFIND"])
def test_a_method_any_does_not_cover_is_the_default_4xx_answer(template: Template, method: str):
    calls = []
    response, _ = gateway_with(template, lambda event, context: calls.append(event)).handle(request(method))
    assert (response.status, json.loads(response.body)["type"], calls) == (400, "validation_error", [])
    assert header(response.headers, "Access-Control-Allow-Origin") == "https://app.example"


# Over WSGI: the body, the log line, the recording


def test_a_body_over_10_mb_is_a_413_and_closes_the_connection(template: Template):
    calls = []
    client = Client(gateway_with(template, lambda event, context: calls.append(event)))
    response = client.post("/batch/", data=b"x" * (10 * 1024 * 1024 + 1), headers=[ORIGIN])
    assert (response.status_code, response.json["code"], calls) == (413, "request_too_large", [])  # type: ignore[index]
    assert response.headers["Connection"] == "close"
    assert response.headers["Access-Control-Allow-Origin"] == "https://app.example"


def test_a_malformed_content_length_is_a_400(template: Template):
    environ = {"CONTENT_LENGTH": "ten"}
    response = Client(gateway_with(template, ok)).post("/batch/", data=b"{}", environ_overrides=environ)
    assert response.status_code == 400


def log_of(template: Template, handler: Any, **options: Any) -> list[str]:
    lines: list[str] = []
    Client(gateway_with(template, handler, log=lines.append, **options)).post(
        "/batch/?api_key=phc_secret&data=eyJ9", data=b"{}"
    )
    return lines


def counted(event: dict[str, Any], context: Any) -> dict[str, Any]:
    print('{"level":"INFO","message":"capture accepted"}')
    print('{"_aws":{"CloudWatchMetrics":[]},"service":"capture","EventsAccepted":[2,1]}')
    return {"statusCode": 200, "body": "{}"}


def test_the_log_is_one_line_with_method_path_status_events_and_duration(template: Template):
    (line,) = log_of(template, counted)
    method, path, status, stored, unit, duration, ms = line.split()
    assert (method, path, status, stored, unit, ms) == ("POST", "/batch/", "200", "3", "events", "ms")
    assert duration.isdigit()


def test_the_log_never_shows_the_query(template: Template):
    (line,) = log_of(template, counted)
    assert "phc_secret" not in line
    assert "eyJ9" not in line


def test_the_functions_own_lines_are_logged_only_when_verbose(template: Template, capsys: Any):
    (text,) = log_of(template, counted, verbose=True)
    assert text.splitlines()[:2] == [
        '{"level":"INFO","message":"capture accepted"}',
        '{"_aws":{"CloudWatchMetrics":[]},"service":"capture","EventsAccepted":[2,1]}',
    ]
    assert text.splitlines()[2].startswith("POST /batch/ 200 3 events")
    assert capsys.readouterr().out == ""


def test_what_a_function_prints_never_reaches_stdout(template: Template, capsys: Any):
    assert len(log_of(template, counted)) == 1
    assert capsys.readouterr().out == ""


def test_a_recorder_gets_each_exchange(template: Template):
    gateway, recorder = gateway_with(template, ok), Recorder()
    gateway.recorders.append(recorder)
    Client(gateway).post("/batch/?a=1", data=b"{}", headers=[ORIGIN])
    (exchange,) = recorder.exchanges
    assert (exchange.method, exchange.target, exchange.body, exchange.status, exchange.response_body) == (
        "POST", "/batch/?a=1", b"{}", 200, b"ok",
    )  # fmt: skip
    assert header(exchange.request_headers, "Origin") == "https://app.example"


def test_waiting_for_exchanges_that_never_come_fails_after_the_timeout():
    with pytest.raises(AssertionError, match=r"within 0\.01 s"):
        Recorder().wait_for(bool, 0.01)


def emf(**values: Any) -> str:
    metrics = [{"Name": name, "Unit": "Count"} for name in values]
    document = {"_aws": {"CloudWatchMetrics": [{"Namespace": "x", "Dimensions": [[]], "Metrics": metrics}]}}
    return json.dumps({**document, **{name: [value] for name, value in values.items()}})


@pytest.mark.parametrize(
    ("published", "said"),
    [
        ({"EventsAccepted": 3}, "3 events"),
        ({"EventsAccepted": 1}, "1 event"),
        ({"RecordingEventsAccepted": 2}, "2 recordings"),
        ({"RecordingEventsIgnored": 2}, "0 events (recording is off for the project: nothing stored)"),
        ({"EventsDroppedByQuota": 5}, "0 events (the project is over its quota: nothing stored)"),
        ({}, "0 events"),
    ],
)
def test_the_log_says_what_was_stored_and_why_nothing_was(published: dict[str, int], said: str):
    from capture_local.handlers import stored_text

    assert stored_text([emf(**published)] if published else []) == said
