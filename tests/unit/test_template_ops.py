"""template.yaml runs on AWS with an operator's safety net: logs that expire, throttling, alarms,
a dashboard, queryable events and a custom domain, each wired to what the functions really emit."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from capture_local.template import Template

ROOT = Path(__file__).resolve().parents[2]
FUNCTIONS = ("CaptureFunction", "BatchFunction", "RecordingsFunction", "ConfigFunction")


@pytest.fixture(scope="module")
def template() -> Template:
    return Template.load(ROOT / "template.yaml")


def of_type(template: Template, resource_type: str) -> dict[str, Any]:
    return {name: template.resources[name] for name in template.logical_ids_of_type(resource_type)}


# Logs and retention


def test_every_function_has_its_own_log_group_with_the_retention_parameter(template: Template):
    groups = of_type(template, "AWS::Logs::LogGroup")
    named = {body["Properties"].get("LogGroupName", {}).get("Fn::Sub"): body for body in groups.values()}
    for function in FUNCTIONS:
        group = named[f"/aws/lambda/${{{function}}}"]
        assert group["Properties"]["RetentionInDays"] == {"Ref": "LogRetentionDays"}


def test_every_log_group_expires_after_the_retention_parameter(template: Template):
    for name, group in of_type(template, "AWS::Logs::LogGroup").items():
        assert group["Properties"]["RetentionInDays"] == {"Ref": "LogRetentionDays"}, name


def test_the_retention_parameter_allows_only_what_cloudwatch_accepts(template: Template):
    parameter = template.document["Parameters"]["LogRetentionDays"]
    assert parameter["Default"] in parameter["AllowedValues"]
    assert set(parameter["AllowedValues"]) <= {
        1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545,
        731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
    }  # fmt: skip


def test_access_logs_go_to_their_log_group_as_json_without_the_request_path(template: Template):
    setting = template.properties("CaptureApi")["AccessLogSetting"]
    assert setting["DestinationArn"] == {"Fn::GetAtt": "ApiAccessLogGroup.Arn"}
    fields = json.loads(setting["Format"])
    assert fields == {
        "requestId": "$context.requestId",
        "ip": "$context.identity.sourceIp",
        "requestTime": "$context.requestTime",
        "domainName": "$context.domainName",
        "method": "$context.httpMethod",
        "resourcePath": "$context.resourcePath",
        "protocol": "$context.protocol",
        "status": "$context.status",
        "responseLength": "$context.responseLength",
        "latency": "$context.responseLatency",
        "integrationLatency": "$context.integrationLatency",
        "integrationStatus": "$context.integration.status",
        "integrationError": "$context.integration.error",
        "errorResponseType": "$context.error.responseType",
    }
    # The path and the query string carry payloads, keys and tokens.
    assert "$context.path" not in setting["Format"]


def test_the_account_role_for_access_logs_is_an_option_off_by_default(template: Template):
    assert template.document["Parameters"]["CreateApiGatewayAccountRole"]["Default"] == "false"
    for name in ("ApiGatewayAccount", "ApiGatewayCloudWatchRole"):
        resource = template.resources[name]
        assert resource["Condition"] == "CreateApiGatewayAccount"
        assert resource["DeletionPolicy"] == "Retain"  # the account's setting outlives the stack
    assert template.properties("ApiGatewayAccount")["CloudWatchRoleArn"] == {
        "Fn::GetAtt": "ApiGatewayCloudWatchRole.Arn"
    }
    # The API (so its stage, with access logs) waits for the account setting when it is made.
    assert template.resources["CaptureApi"]["DependsOn"] == "ApiGatewayAccountReady"
    assert template.resources["ApiGatewayAccountReady"]["Metadata"]["ApiGatewayAccount"] == {
        "Fn::If": ["CreateApiGatewayAccount", {"Ref": "ApiGatewayAccount"}, ""]
    }


# Throttling


def test_the_stage_throttles_every_method_from_parameters(template: Template):
    assert template.properties("CaptureApi")["MethodSettings"] == [
        {
            "ResourcePath": "/*",
            "HttpMethod": "*",
            "ThrottlingRateLimit": {"Ref": "ThrottlingRateLimit"},
            "ThrottlingBurstLimit": {"Ref": "ThrottlingBurstLimit"},
        }
    ]


def test_throttled_requests_get_the_contracts_429_with_retry_after(template: Template):
    response = template.properties("ThrottledResponse")
    assert (response["ResponseType"], response["StatusCode"]) == ("THROTTLED", "429")
    assert response["ResponseParameters"]["gatewayresponse.header.Retry-After"] == "'1'"
    assert '"code": "rate_limited"' in response["ResponseTemplates"]["application/json"]


def test_sam_deploys_no_second_stage_that_would_bypass_throttling(template: Template):
    # Without an OpenApiVersion, SAM also deploys a stage named "Stage".
    assert template.properties("CaptureApi")["OpenApiVersion"] == "3.0.1"
