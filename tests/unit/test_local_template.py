"""The local stack reads its resources, functions and settings from template.yaml."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
from capture_local.functions import function_specs, shared_environment
from capture_local.names import DEFAULT_TEMPLATE, REPOSITORY_ROOT, STREAM_NAME, TABLE_NAME
from capture_local.provisioning import LocalResources, static_prefix
from capture_local.sam_env import sam_env_json
from capture_local.stored_events import object_lines
from capture_local.template import Template, TemplateError, load_template_text, resolve

MINIMAL = """
Resources:
  Table:
    Type: AWS::DynamoDB::Table
    Properties: {{}}
  Bucket:
    Type: AWS::S3::Bucket
  Stream:
    Type: AWS::KinesisFirehose::DeliveryStream
    Properties:
      ExtendedS3DestinationConfiguration: {{BucketARN: !GetAtt Bucket.Arn}}
  A:
    Type: AWS::Serverless::Function
    Properties: {{CodeUri: a/, Handler: a.handler, Environment: {{Variables: {{X: "1"}}}}}}
  B:
    Type: AWS::Serverless::Function
    Properties: {{CodeUri: b/, Handler: b.handler, Environment: {{Variables: {{X: {b_value}}}}}}}
"""


@pytest.fixture(scope="module")
def template() -> Template:
    return Template.load(DEFAULT_TEMPLATE)


def test_short_tags_become_their_long_forms():
    document = load_template_text(
        "Resources: {A: {Properties: {R: !Ref X, G: !GetAtt X.Arn, S: !Sub 'a${X}'}}}"
    )
    assert document["Resources"]["A"]["Properties"] == {
        "R": {"Ref": "X"},
        "G": {"Fn::GetAtt": "X.Arn"},
        "S": {"Fn::Sub": "a${X}"},
    }


def test_a_document_without_resources_is_refused():
    with pytest.raises(TemplateError):
        load_template_text("Parameters: {}")


def test_refs_and_subs_resolve_to_local_values():
    refs = {"Stream": "local-stream", "AWS::Region": "eu-west-1"}
    assert resolve({"Ref": "Stream"}, refs, "X") == "local-stream"
    assert resolve({"Fn::Sub": "${Stream}@${AWS::Region}"}, refs, "X") == "local-stream@eu-west-1"
    assert resolve(60, refs, "X") == "60"


def test_intrinsics_without_a_local_value_are_refused_by_name():
    with pytest.raises(TemplateError, match="VAR"):
        resolve({"Fn::GetAtt": "Stream.Arn"}, {}, "VAR")
    with pytest.raises(TemplateError, match="Unknown"):
        resolve({"Ref": "Unknown"}, {}, "VAR")


def test_functions_take_sizing_from_globals_unless_they_set_their_own(template: Template):
    specs = {spec.logical_id: spec for spec in function_specs(template)}
    assert (specs["CaptureFunction"].memory_mb, specs["CaptureFunction"].timeout_s) == (512, 15)
    assert (specs["BatchFunction"].memory_mb, specs["BatchFunction"].timeout_s) == (1024, 30)


def test_functions_load_from_their_code_folder_with_the_layer_after_it(template: Template):
    spec = next(spec for spec in function_specs(template) if spec.logical_id == "CaptureFunction")
    assert spec.code_dir.resolve() == REPOSITORY_ROOT / "functions" / "capture"
    assert (spec.module_name, spec.handler_name) == ("capture_handler", "lambda_handler")
    assert [path.resolve() for path in spec.layer_dirs] == [REPOSITORY_ROOT / "layers" / "common"]


def test_the_functions_environment_points_at_the_local_resources(template: Template):
    local = LocalResources.from_template(template)
    refs = {**template.parameter_defaults(), **local.refs()}
    environment = shared_environment(function_specs(template), refs)
    assert environment["EVENTS_STREAM_NAME"] == STREAM_NAME
    assert environment["API_KEYS_TABLE_NAME"] == TABLE_NAME
    assert environment["KEY_CACHE_TTL_SECONDS"] == "60"
    assert environment["POWERTOOLS_LOG_LEVEL"] == "INFO"


def test_functions_with_different_variables_cannot_share_one_process(tmp_path: Path):
    path = tmp_path / "template.yaml"
    path.write_text(MINIMAL.format(b_value='"2"'))
    with pytest.raises(TemplateError, match="X"):
        shared_environment(function_specs(Template.load(path)), {})


def test_functions_with_equal_variables_share_them(tmp_path: Path):
    path = tmp_path / "template.yaml"
    path.write_text(MINIMAL.format(b_value='"1"'))
    assert shared_environment(function_specs(Template.load(path)), {}) == {"X": "1"}


def test_local_resources_are_found_by_type(tmp_path: Path):
    path = tmp_path / "template.yaml"
    path.write_text(MINIMAL.format(b_value='"1"'))
    local = LocalResources.from_template(Template.load(path))
    assert (local.table_id, local.bucket_id, local.stream_id) == ("Table", "Bucket", "Stream")


def test_the_stream_prefix_keeps_the_folders_before_any_expression():
    assert static_prefix("events/year=!{timestamp:yyyy}/month=!{timestamp:MM}/") == "events/"
    assert static_prefix("raw/events/") == "raw/events/"
    assert static_prefix("!{firehose:error-output-type}/") == ""
    assert static_prefix("") == ""


def test_the_sam_env_file_is_the_one_the_template_gives(template: Template):
    committed = (REPOSITORY_ROOT / "local" / "sam-env.json").read_text()
    assert committed == sam_env_json(template), (
        "regenerate: python -m capture_local sam-env > local/sam-env.json"
    )


def test_the_sam_env_file_points_both_functions_at_moto_on_the_host(template: Template):
    document = json.loads(sam_env_json(template))
    assert set(document) == {"CaptureFunction", "BatchFunction"}
    for variables in document.values():
        assert variables["CAPTURE_AWS_ENDPOINT_URL"] == "http://host.docker.internal:5000"
        assert variables["EVENTS_STREAM_NAME"] == STREAM_NAME


def test_stored_objects_are_read_gzip_or_not():
    lines = b'{"a": 1}\n{"a": 2}\n'
    assert list(object_lines(lines)) == ['{"a": 1}', '{"a": 2}']
    assert list(object_lines(gzip.compress(lines))) == ['{"a": 1}', '{"a": 2}']


def test_stored_lines_split_at_newlines_only():
    # orjson writes U+2028, U+2029 and U+0085 raw, as JSON allows; they are not line ends in NDJSON.
    line = '{"s": "a\u2028b\u0085c\u2029d"}'.encode()
    assert [json.loads(text)["s"] for text in object_lines(line + b"\n" + line + b"\n")] == [
        "a\u2028b\u0085c\u2029d"
    ] * 2
