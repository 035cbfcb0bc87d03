"""Flood protection (template parameter FloodRateLimit, off by default): an AWS WAF web ACL on the
stage whose rate-based rule answers an address over the rate itself, 429 rate_limited in the
contract's format with Retry-After and CORS; and the local stack's gateway answering the same."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from capture_local.functions import function_specs
from capture_local.gateway import Gateway
from capture_local.gateway_responses import GatewayResponses
from capture_local.handlers import LocalFunction
from capture_local.names import DEFAULT_TEMPLATE
from capture_local.routing import Route, RouteMap
from capture_local.template import Template
from capture_local.web_acl import FloodRule
from werkzeug.test import Client


@pytest.fixture(scope="module")
def template() -> Template:
    return Template.load(DEFAULT_TEMPLATE)


def with_parameters(template: Template, **parameters: str) -> dict[str, str]:
    return {**template.parameter_defaults(), **parameters}


def test_it_is_off_by_default_and_its_resources_exist_only_when_asked(template: Template):
    assert template.parameter_defaults()["FloodRateLimit"] == "0"
    for logical_id in ("FloodWebAcl", "FloodWebAclAssociation"):
        assert template.resources[logical_id]["Condition"] == "HasFloodProtection"
    assert template.document["Conditions"]["HasFloodProtection"] == {
        "Fn::Not": [{"Fn::Equals": [{"Ref": "FloodRateLimit"}, "0"]}]
    }
    assert FloodRule.from_template(template, template.parameter_defaults()) is None


def test_the_rule_counts_each_address_and_answers_in_the_contracts_format(template: Template):
    acl = template.properties("FloodWebAcl")
    assert acl["Scope"] == "REGIONAL"
    assert acl["DefaultAction"] == {"Allow": {}}
    (rule,) = acl["Rules"]
    assert rule["Statement"]["RateBasedStatement"] == {
        "Limit": {"Ref": "FloodRateLimit"},
        "EvaluationWindowSec": {"Ref": "FloodRateWindowSeconds"},
        "AggregateKeyType": "IP",
    }
    custom = rule["Action"]["Block"]["CustomResponse"]
    assert custom["ResponseCode"] == 429
    headers = {header["Name"]: header["Value"] for header in custom["ResponseHeaders"]}
    assert headers == {"Retry-After": {"Ref": "FloodRateWindowSeconds"}, "Access-Control-Allow-Origin": "*"}
    body = json.loads(acl["CustomResponseBodies"][custom["CustomResponseBodyKey"]]["Content"])
    throttled = json.loads(template.properties("ThrottledResponse")["ResponseTemplates"]["application/json"])
    assert (body["type"], body["code"], body["attr"]) == (throttled["type"], "rate_limited", None)
    association = template.properties("FloodWebAclAssociation")
    assert association["WebACLArn"] == {"Fn::GetAtt": "FloodWebAcl.Arn"}
    assert "/restapis/${CaptureApi}/stages/${CaptureApi.Stage}" in association["ResourceArn"]["Fn::Sub"]


def test_the_parameter_takes_zero_or_what_aws_waf_takes(template: Template):
    pattern = template.document["Parameters"]["FloodRateLimit"]["AllowedPattern"]
    assert [
        text for text in ("0", "10", "2000000000", "9", "01", "-5", "ten") if re.fullmatch(pattern, text)
    ] == [
        "0",
        "10",
        "2000000000",
    ]


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_an_address_over_the_rate_gets_429_until_its_window_moves_on(template: Template):
    rule = FloodRule.from_template(
        template, with_parameters(template, FloodRateLimit="10", FloodRateWindowSeconds="60")
    )
    assert rule is not None
    rule.clock = clock = Clock()
    assert [rule.refuses("192.0.2.1") for _ in range(10)] == [None] * 10
    refused = rule.refuses("192.0.2.1")
    assert refused is not None
    assert refused.status == 429
    assert rule.refuses("192.0.2.2") is None  # another address counts apart
    clock.now += 61
    assert rule.refuses("192.0.2.1") is None


def test_the_local_gateway_answers_the_rules_429_before_any_function_runs(template: Template):
    calls: list[Any] = []

    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        calls.append(event)
        return {"statusCode": 200, "body": '{"status": 1}'}

    specs = function_specs(template)
    functions = {spec.logical_id: LocalFunction(spec, handler, "us-east-1") for spec in specs}
    routes = RouteMap(Route(path, spec.logical_id) for spec in specs for path in spec.resources)
    rule = FloodRule.from_template(template, with_parameters(template, FloodRateLimit="10"))
    gateway = Gateway(routes, functions, GatewayResponses.from_template(template), web_acl=rule)
    client = Client(gateway)
    statuses = [client.post("/e/", data=b"{}").status_code for _ in range(12)]
    assert statuses == [200] * 10 + [429, 429]
    assert len(calls) == 10
    answer = client.post("/e/", data=b"{}", headers={"Origin": "https://app.example"})
    assert answer.json == {  # type: ignore[comparison-overlap]
        "type": "throttled_error",
        "code": "rate_limited",
        "detail": "Too many requests from this address; retry after Retry-After seconds.",
        "attr": None,
    }
    assert (answer.headers["Retry-After"], answer.headers["Access-Control-Allow-Origin"]) == ("300", "*")
    assert answer.headers["Content-Type"] == "application/json"
