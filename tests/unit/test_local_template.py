"""The local stack reads its resources, functions and settings from template.yaml, and finds a
running stack from its state file."""

from __future__ import annotations

import gzip
import json
import os
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from capture_local import state
from capture_local.aws import LocalResources, object_lines, static_prefix
from capture_local.cli import sam_env_json
from capture_local.delivery import object_key
from capture_local.functions import FunctionSpec, function_specs
from capture_local.names import DEFAULT_TEMPLATE, REPOSITORY_ROOT, STREAM_NAME, TABLE_NAME, local_name
from capture_local.template import Template, TemplateError, load_template_text, resolve

MINIMAL = """
Parameters:
  Ttl: {Type: Number, Default: 60}
Resources:
  KeysTable:
    Type: AWS::DynamoDB::Table
    Properties: {}
  RawBucket:
    Type: AWS::S3::Bucket
  EventsStream:
    Type: AWS::KinesisFirehose::DeliveryStream
    Properties:
      ExtendedS3DestinationConfiguration:
        {BucketARN: !GetAtt RawBucket.Arn, Prefix: "events/!{timestamp:yyyy}/"}
  RecordingsStream:
    Type: AWS::KinesisFirehose::DeliveryStream
    Properties:
      ExtendedS3DestinationConfiguration: {BucketARN: !GetAtt RawBucket.Arn, Prefix: "recordings/"}
  A:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: a/
      Handler: a.handler
      MemorySize: 256
      Environment: {Variables: {TTL: !Ref Ttl, STREAM: !Ref RecordingsStream, LIMIT: "5"}}
      Events: {Any: {Type: Api, Properties: {Path: /a, Method: any}}}
  B:
    Type: AWS::Serverless::Function
    Properties: {CodeUri: b/, Handler: b.handler, Environment: {Variables: {LIMIT: "6"}}}
"""


@pytest.fixture(scope="module")
def template() -> Template:
    return Template.load(DEFAULT_TEMPLATE)


@pytest.fixture
def minimal(tmp_path: Path) -> Template:
    path = tmp_path / "template.yaml"
    path.write_text(MINIMAL)
    return Template.load(path)


def specs_of(template: Template) -> dict[str, FunctionSpec]:
    return {spec.logical_id: spec for spec in function_specs(template)}


def environment_of(template: Template, function: str, **overrides: str) -> dict[str, str]:
    refs = {**template.parameter_defaults(), **LocalResources.from_template(template).refs()}
    spec = specs_of(template)[function]
    return spec.environment(refs, "eu-west-1", "http://moto", overrides)


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
    specs = specs_of(template)
    assert (specs["CaptureFunction"].memory_mb, specs["CaptureFunction"].timeout_s) == (512, 15)
    assert (specs["BatchFunction"].memory_mb, specs["BatchFunction"].timeout_s) == (1024, 30)


def test_functions_load_from_their_code_folder_with_the_layer_after_it(template: Template):
    spec = specs_of(template)["CaptureFunction"]
    assert spec.code_dir.resolve() == REPOSITORY_ROOT / "functions" / "capture"
    assert spec.handler == "capture_handler.lambda_handler"
    assert [path.resolve() for path in spec.layer_dirs] == [REPOSITORY_ROOT / "layers" / "common"]


def test_functions_take_the_resources_of_their_api_events(template: Template):
    specs = specs_of(template)
    assert specs["BatchFunction"].resources == ("/batch", "/i/v1/analytics/events")
    assert {"/capture", "/", "/{proxy+}"} <= set(specs["CaptureFunction"].resources)


def test_an_api_event_for_one_method_is_refused(tmp_path: Path):
    path = tmp_path / "template.yaml"
    path.write_text(MINIMAL.replace("Path: /a, Method: any", "Path: /a, Method: get"))
    with pytest.raises(TemplateError, match="Method: any"):
        function_specs(Template.load(path))


def test_the_functions_environment_points_at_the_local_resources(template: Template):
    environment = environment_of(template, "CaptureFunction")
    assert environment["EVENTS_STREAM_NAME"] == STREAM_NAME
    assert environment["API_KEYS_TABLE_NAME"] == TABLE_NAME
    assert environment["KEY_CACHE_TTL_SECONDS"] == "60"
    assert environment["POWERTOOLS_LOG_LEVEL"] == "INFO"
    assert environment["CAPTURE_AWS_ENDPOINT_URL"] == "http://moto"


def test_the_functions_environment_holds_what_lambda_sets(template: Template):
    environment = environment_of(template, "BatchFunction")
    assert environment["AWS_LAMBDA_FUNCTION_NAME"] == "BatchFunction"
    assert environment["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] == "1024"
    assert environment["AWS_LAMBDA_FUNCTION_TIMEOUT"] == "30"
    assert (environment["AWS_REGION"], environment["AWS_ACCESS_KEY_ID"]) == ("eu-west-1", "testing")
    assert environment["POWERTOOLS_TRACE_DISABLED"] == "true"


def test_functions_may_set_different_values(minimal: Template):
    assert environment_of(minimal, "A")["LIMIT"] == "5"
    assert environment_of(minimal, "B")["LIMIT"] == "6"
    assert environment_of(minimal, "A")["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] == "256"


def test_overrides_replace_a_setting(minimal: Template):
    assert environment_of(minimal, "A", TTL="2")["TTL"] == "2"
    assert environment_of(minimal, "A", LIMIT="9")["LIMIT"] == "9"


def test_overrides_never_replace_a_resource_name_or_the_endpoint(minimal: Template):
    environment = environment_of(minimal, "A", STREAM="elsewhere", CAPTURE_AWS_ENDPOINT_URL="https://aws")
    assert environment["STREAM"] == "capture-local-recordings"
    assert environment["CAPTURE_AWS_ENDPOINT_URL"] == "http://moto"


def test_overrides_of_variables_a_function_does_not_declare_are_ignored(minimal: Template):
    assert "TTL" not in environment_of(minimal, "B", TTL="2")


def test_local_names_are_the_logical_ids_in_kebab_case_without_the_type():
    assert local_name("ApiKeysTable") == "capture-local-api-keys"
    assert local_name("EventsStream") == "capture-local-events"
    assert local_name("RecordingsStream") == "capture-local-recordings"
    assert local_name("Table") == "capture-local-table"


def test_local_resources_are_found_by_type(minimal: Template):
    local = LocalResources.from_template(minimal)
    assert local.tables == {"KeysTable": "capture-local-keys"}
    assert local.buckets == {"RawBucket": "capture-local-raw"}
    assert set(local.streams) == {"EventsStream", "RecordingsStream"}


def test_each_stream_writes_to_its_bucket_under_its_own_prefix(minimal: Template):
    streams = LocalResources.from_template(minimal).streams
    assert (streams["EventsStream"].bucket_name, streams["EventsStream"].prefix) == (
        "capture-local-raw",
        "events/",
    )
    assert streams["RecordingsStream"].prefix == "recordings/"


def test_a_stream_must_name_a_bucket_of_the_template(tmp_path: Path):
    path = tmp_path / "template.yaml"
    path.write_text(MINIMAL.replace('!GetAtt RawBucket.Arn, Prefix: "recordings/"', "arn:aws:s3:::x"))
    with pytest.raises(TemplateError, match="RecordingsStream"):
        LocalResources.from_template(Template.load(path))


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


def test_the_sam_env_file_points_every_function_at_moto_on_the_host(template: Template):
    document = json.loads(sam_env_json(template))
    assert set(document) == {
        "CaptureFunction",
        "BatchFunction",
        "ConfigFunction",
        "RecordingsFunction",
        "UsageFunction",
    }
    for variables in document.values():
        assert variables["CAPTURE_AWS_ENDPOINT_URL"] == "http://host.docker.internal:5000"
    assert document["CaptureFunction"]["EVENTS_STREAM_NAME"] == STREAM_NAME


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


# The state file


def test_a_running_stack_is_found_from_its_state_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("MOTO_PORT", raising=False)
    state.write("http://127.0.0.1:3001", "http://127.0.0.1:5001", tmp_path / "state.json")
    assert state.moto_endpoint(tmp_path / "state.json") == "http://127.0.0.1:5001"


def test_moto_port_wins_over_the_state_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("MOTO_PORT", "5002")
    state.write(None, "http://127.0.0.1:5001", tmp_path / "state.json")
    assert state.moto_endpoint(tmp_path / "state.json") == "http://127.0.0.1:5002"


def test_without_a_state_file_the_error_says_to_start_make_dev(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.delenv("MOTO_PORT", raising=False)
    with pytest.raises(state.NotRunning, match="make dev"):
        state.moto_endpoint(tmp_path / "none.json")


def test_a_state_file_whose_process_is_gone_counts_as_nothing_running(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.delenv("MOTO_PORT", raising=False)
    path = tmp_path / "state.json"
    path.write_text(json.dumps({"api_url": None, "moto_url": "http://127.0.0.1:5001", "pid": 2**22 + 1}))
    with pytest.raises(state.NotRunning):
        state.moto_endpoint(path)


def test_the_state_file_is_removed_only_by_the_process_that_wrote_it(tmp_path: Path):
    path = tmp_path / "state.json"
    path.write_text(json.dumps({"api_url": None, "moto_url": "x", "pid": os.getppid()}))
    state.remove(path)
    assert path.exists()
    state.write(None, "x", path)
    state.remove(path)
    assert not path.exists()


def test_an_object_key_is_the_prefix_evaluated_at_delivery_like_firehose():
    at = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    prefix = "events/year=!{timestamp:yyyy}/month=!{timestamp:MM}/day=!{timestamp:dd}/hour=!{timestamp:HH}/"
    key = object_key("capture-local-events", "1", prefix, "GZIP", at)
    folder, name = key.rsplit("/", 1)
    assert folder == "events/year=2026/month=01/day=02/hour=03"
    assert re.fullmatch(r"capture-local-events-1-2026-01-02-03-04-05-[0-9a-f-]{36}\.gz", name)
    assert object_key("s", "1", "raw/", "UNCOMPRESSED", at).startswith("raw/s-1-2026-01-02-03-04-05-")
    assert not object_key("s", "1", "raw/", "UNCOMPRESSED", at).endswith(".gz")
    with pytest.raises(ValueError, match="error-output-type"):
        object_key("s", "1", "errors/!{firehose:error-output-type}/", "GZIP", at)
