"""template.yaml keeps to the contract: routes, binary bodies, runtime, least privilege."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from capture_core.api.routes import FUNCTION_RESOURCES, function_for
from capture_core.settings import Settings
from capture_local.template import Template

ROOT = Path(__file__).resolve().parents[2]
CATCH_ALL = {"/", "/{proxy+}"}


@pytest.fixture(scope="module")
def template() -> Template:
    return Template.load(ROOT / "template.yaml")


def api_paths(template: Template, function: str) -> set[str]:
    events = template.properties(function)["Events"].values()
    return {event["Properties"]["Path"] for event in events if event["Type"] == "Api"}


@pytest.mark.parametrize("function", sorted(FUNCTION_RESOURCES))
def test_each_function_serves_the_resources_the_route_table_gives_it(template: Template, function: str):
    assert api_paths(template, f"{function.capitalize()}Function") == set(FUNCTION_RESOURCES[function])


@pytest.mark.parametrize(
    ("path", "function"),
    [
        ("/e/", "capture"), ("/i/v0/e", "capture"), ("/_health", "capture"), ("/", "capture"),
        ("/nothing/here", "capture"), ("/batch/", "batch"), ("/i/v1/analytics/events/", "batch"),
        ("/s/", "recordings"), ("/flags/", "config"), ("/flags/definitions", "config"),
        ("/array/phc_x/config.js", "config"), ("/static/1.0/recorder.js", "config"),
        ("/api/surveys/", "config"), ("/apix", "capture"),
    ],
)  # fmt: skip
def test_a_path_reaches_the_function_api_gateway_sends_it_to(path: str, function: str):
    assert function_for(path) == function


def test_recordings_function_serves_s_and_writes_only_its_stream(template: Template):
    assert grants(template, "RecordingsFunction") == {
        ("firehose:PutRecordBatch", "RecordingsStream.Arn"),
        ("s3:PutObject", "${EventsBucket.Arn}/recordings/*/direct-*"),
        ("dynamodb:GetItem", "ApiKeysTable.Arn"),
    }


def test_recordings_have_their_own_prefix_and_retention(template: Template):
    destination = template.properties("RecordingsStream")["ExtendedS3DestinationConfiguration"]
    assert destination["Prefix"].startswith("recordings/year=!{timestamp:yyyy}/")
    assert destination["CompressionFormat"] == "GZIP"
    rules = {
        rule["Id"]: rule for rule in template.properties("EventsBucket")["LifecycleConfiguration"]["Rules"]
    }
    assert (rules["ExpireRecordings"]["Prefix"], rules["ExpireRecordings"]["ExpirationInDays"]) == (
        "recordings/",
        {"Ref": "RecordingsRetentionDays"},
    )
    assert rules["ExpireRawEvents"]["Prefix"] == "events/"


FUNCTIONS = ("CaptureFunction", "BatchFunction", "ConfigFunction", "RecordingsFunction")


def test_routes_take_any_method_so_the_function_answers_405(template: Template):
    for function in FUNCTIONS:
        methods = {e["Properties"]["Method"] for e in template.properties(function)["Events"].values()}
        assert methods == {"any"}


def test_every_body_is_delivered_as_binary(template: Template):
    assert template.properties("CaptureApi")["BinaryMediaTypes"] == ["*~1*"]


def test_functions_run_python313_on_arm64_with_the_shared_layer(template: Template):
    globals_ = template.function_globals()
    assert (globals_["Runtime"], globals_["Architectures"]) == ("python3.13", ["arm64"])
    assert globals_["Layers"] == [{"Ref": "CommonLayer"}]
    assert template.resources["CommonLayer"]["Metadata"] == {
        "BuildMethod": "makefile",
        "BuildArchitecture": "arm64",
    }


def test_the_layer_build_ships_bytecode_for_3_13_arm64_and_leaves_boto3_to_the_runtime():
    makefile = (ROOT / "layers" / "common" / "Makefile").read_text()
    assert "build-CommonLayer:" in makefile
    assert "--platform manylinux2014_aarch64" in makefile
    assert "--python-version 3.13" in makefile
    assert "compileall" in makefile
    assert "--invalidation-mode unchecked-hash" in makefile
    provided = re.search(r"^RUNTIME_PROVIDED := (.*)$", makefile, re.MULTILINE)
    assert provided is not None
    assert {"boto3", "botocore", "s3transfer", "urllib3"} <= set(provided[1].split())


def test_handlers_exist_where_the_template_points(template: Template):
    for function in FUNCTIONS:
        properties = template.properties(function)
        module, _, attribute = properties["Handler"].rpartition(".")
        source = ROOT / properties["CodeUri"] / f"{module}.py"
        assert f"def {attribute}(" in source.read_text()


def grants(template: Template, function: str) -> set[tuple[str, str]]:
    """(action, resource) for every statement of a function's policy, one pair per resource."""
    statements: list[dict[str, Any]] = template.properties(function)["Policies"][0]["Statement"]
    pairs = set()
    for statement in statements:
        assert statement["Effect"] == "Allow"
        resources = statement["Resource"]
        for resource in resources if isinstance(resources, list) else [resources]:
            pairs.add((statement["Action"], next(iter(resource.values()))))
    return pairs


def test_policies_grant_only_put_record_batch_the_direct_path_and_get_item(template: Template):
    assert grants(template, "BatchFunction") == {
        ("firehose:PutRecordBatch", "EventsStream.Arn"),
        ("s3:PutObject", "${EventsBucket.Arn}/events/*/direct-*"),
        ("dynamodb:GetItem", "ApiKeysTable.Arn"),
        ("dynamodb:PutItem", "ApiKeysTable.Arn"),
    }


@pytest.mark.parametrize("function", ["CaptureFunction", "BatchFunction"])
def test_a_function_may_only_write_cookieless_salts_to_the_key_table(template: Template, function: str):
    statements = template.properties(function)["Policies"][0]["Statement"]
    (writes,) = [s for s in statements if s["Action"] == "dynamodb:PutItem"]
    assert writes["Condition"] == {"ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["cookieless_salt#*"]}}
    from capture_core.events.cookieless_salts import SALT_PREFIX

    assert f"{SALT_PREFIX}*" == writes["Condition"]["ForAllValues:StringLike"]["dynamodb:LeadingKeys"][0]


def test_salts_expire_by_the_tables_ttl(template: Template):
    ttl = template.properties("ApiKeysTable")["TimeToLiveSpecification"]
    assert ttl == {"AttributeName": "expires_at", "Enabled": True}


@pytest.mark.parametrize(
    ("function", "stream"),
    [
        ("CaptureFunction", "EventsStream"),
        ("BatchFunction", "EventsStream"),
        ("RecordingsFunction", "RecordingsStream"),
    ],
)
def test_the_direct_path_may_only_add_direct_objects_under_its_streams_prefix(
    template: Template, function: str, stream: str
):
    prefix = template.properties(stream)["ExtendedS3DestinationConfiguration"]["Prefix"]
    folder = prefix.split("/", 1)[0]
    (resource,) = [r for action, r in grants(template, function) if action.startswith("s3:")]
    assert resource == f"${{EventsBucket.Arn}}/{folder}/*/direct-*"
    # The function writes under the stream's own prefix, in the stream's bucket.
    variables = template.function_globals()["Environment"]["Variables"]
    assert variables["EVENTS_BUCKET_NAME"] == {"Ref": "EventsBucket"}
    assert template.properties(stream)["ExtendedS3DestinationConfiguration"]["BucketARN"] == {
        "Fn::GetAtt": "EventsBucket.Arn"
    }
    setting = "RECORDINGS_PREFIX" if stream == "RecordingsStream" else "EVENTS_PREFIX"
    assert variables[setting] == prefix
    assert getattr(Settings(), setting.lower()) == prefix  # the default is the template's
    assert direct_object_key(prefix).startswith(f"{folder}/year=")


def direct_object_key(prefix: str) -> str:
    from datetime import UTC, datetime

    from capture_core.sink.direct import DirectPath
    from capture_core.sink.timing import Pacing, TimeBoundClients

    pacing = Pacing(TimeBoundClients(lambda connect, read: None, [(1, 1)]), 1.0)
    at = datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC)
    key = DirectPath(pacing, "bucket", prefix, "s", now=lambda: at).object_key()
    assert "/direct-s-2026-03-04-05-06-07-" in key
    return key


def test_the_capture_function_may_also_describe_exactly_what_the_health_check_reads(template: Template):
    assert grants(template, "CaptureFunction") == {
        ("firehose:PutRecordBatch", "EventsStream.Arn"),
        ("s3:PutObject", "${EventsBucket.Arn}/events/*/direct-*"),
        ("dynamodb:GetItem", "ApiKeysTable.Arn"),
        ("dynamodb:PutItem", "ApiKeysTable.Arn"),
        ("dynamodb:DescribeTable", "ApiKeysTable.Arn"),
        ("firehose:DescribeDeliveryStream", "EventsStream.Arn"),
        ("firehose:DescribeDeliveryStream", "RecordingsStream.Arn"),
    }


def test_the_config_function_may_only_read_keys(template: Template):
    statements = template.properties("ConfigFunction")["Policies"][0]["Statement"]
    assert [(s["Action"], s["Resource"]) for s in statements] == [
        ("dynamodb:GetItem", {"Fn::GetAtt": "ApiKeysTable.Arn"})
    ]


def test_the_config_function_has_posthog_js_scripts(template: Template):
    assert template.properties("ConfigFunction")["Layers"] == [{"Ref": "StaticAssetsLayer"}]
    assert template.properties("StaticAssetsLayer")["ContentUri"] == "layers/static/"
    assert Settings().static_assets_dir == "/opt/posthog-js"  # where Lambda unpacks the layer


def test_environment_variables_are_settings(template: Template):
    variables = template.function_globals()["Environment"]["Variables"]
    settings = set(Settings.descriptions())
    assert {name for name in variables if not name.startswith("POWERTOOLS_")} <= settings


def test_firehose_stream_is_gzip_to_a_date_partitioned_prefix(template: Template):
    destination = template.properties("EventsStream")["ExtendedS3DestinationConfiguration"]
    assert destination["CompressionFormat"] == "GZIP"
    assert "year=!{timestamp:yyyy}" in destination["Prefix"]
    assert destination["ErrorOutputPrefix"].startswith("errors/")


def test_key_table_is_on_demand_with_recovery_and_encryption(template: Template):
    table = template.properties("ApiKeysTable")
    assert table["BillingMode"] == "PAY_PER_REQUEST"
    assert table["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True
    assert table["SSESpecification"]["SSEEnabled"] is True


def test_the_xray_sdk_is_not_imported_unless_sdk_tracing_is_on():
    import subprocess
    import sys

    code = "import sys; sys.path[:0] = ['functions/batch']; import batch_handler; print('aws_xray_sdk' in sys.modules)"  # noqa: E501
    environment = {"AWS_DEFAULT_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "y"}
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True, env=environment
    )
    assert result.stdout.strip() == "False", result.stderr


def test_sdk_tracing_wraps_the_handler_in_powertools_tracer(monkeypatch: pytest.MonkeyPatch):
    import aws_lambda_powertools.tracing
    from capture_core import observability

    wrapped = []

    class Tracer:
        def capture_lambda_handler(self, handler):
            wrapped.append(handler)
            return handler

    monkeypatch.setattr(aws_lambda_powertools.tracing, "Tracer", Tracer)
    for tracing in (False, True):
        monkeypatch.setattr(
            observability, "get_settings", lambda tracing=tracing: Settings(sdk_tracing=tracing)
        )
        observability.observed(lambda event, context: {"statusCode": 200})
        assert len(wrapped) == int(tracing)
