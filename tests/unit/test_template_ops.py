"""template.yaml runs on AWS with an operator's safety net: logs that expire, throttling, alarms,
a dashboard, queryable events and a custom domain, each wired to what the functions really emit."""

from __future__ import annotations

import gzip
import json
import re
from pathlib import Path
from typing import Any

import pytest
from capture_admin import athena
from capture_core import errors
from capture_core.settings import Settings
from capture_local.template import Template

ROOT = Path(__file__).resolve().parents[2]
FUNCTIONS = ("CaptureFunction", "BatchFunction", "RecordingsFunction", "ConfigFunction", "UsageFunction")


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


# Alarms


def alarms(template: Template) -> dict[str, Any]:
    return {name: body["Properties"] for name, body in of_type(template, "AWS::CloudWatch::Alarm").items()}


def metric_stats(alarm: dict[str, Any]) -> list[dict[str, Any]]:
    """Every metric an alarm reads: its own, or each of its metric math's."""
    if "MetricName" in alarm:
        return [{key: alarm[key] for key in ("Namespace", "MetricName", "Dimensions")}]
    return [query["MetricStat"]["Metric"] for query in alarm["Metrics"] if "MetricStat" in query]


def dimensions(metric: dict[str, Any]) -> dict[str, Any]:
    return {item["Name"]: item["Value"] for item in metric["Dimensions"]}


def alarms_on(template: Template, namespace: str, metric_name: str) -> dict[str, dict[str, Any]]:
    return {
        name: alarm
        for name, alarm in alarms(template).items()
        if any((m["Namespace"], m["MetricName"]) == (namespace, metric_name) for m in metric_stats(alarm))
    }


def function_timeout(template: Template, function: str) -> int:
    return int(template.properties(function).get("Timeout", template.function_globals()["Timeout"]))


# (namespace, metric) -> the threshold parameter each alarm on it reads.
EXPECTED_ALARMS = {
    ("AWS/ApiGateway", "5XXError"): "ApiServerErrorRateThreshold",
    ("AWS/Lambda", "Errors"): "ErrorCountThreshold",
    ("AWS/Lambda", "Throttles"): "ThrottleCountThreshold",
    ("AWS/Lambda", "Duration"): "DurationAlarmTimeoutShare",
    ("PostHogCapture", "InternalErrors"): "ErrorCountThreshold",
    ("PostHogCapture", "FirehoseNonRetryableErrors"): "ErrorCountThreshold",
    ("PostHogCapture", "DirectPathThrottledEvents"): "ErrorCountThreshold",
    ("PostHogCapture", "DirectPathFailedEvents"): "ErrorCountThreshold",
    ("PostHogCapture", "Rejected_sink_unavailable"): "UnavailableAnswersThreshold",
    ("PostHogCapture", "Rejected_auth_unavailable"): "UnavailableAnswersThreshold",
    ("AWS/Firehose", "ThrottledRecords"): "ThrottleCountThreshold",
    ("AWS/Firehose", "DeliveryToS3.DataFreshness"): "DataFreshnessThresholdSeconds",
    ("AWS/DynamoDB", "ReadThrottleEvents"): "ThrottleCountThreshold",
    ("AWS/DynamoDB", "ThrottledRequests"): "ThrottleCountThreshold",
}


@pytest.mark.parametrize(("metric", "threshold"), EXPECTED_ALARMS.items(), ids=str)
def test_every_alarm_is_present_with_its_metric_and_threshold_parameter(
    template: Template, metric: tuple[str, str], threshold: str
):
    found = alarms_on(template, *metric)
    assert found, f"no alarm on {metric}"
    for name, alarm in found.items():
        assert alarm["Threshold"] == {"Ref": threshold}, name
        assert "Default" in template.document["Parameters"][threshold]


def test_every_alarm_notifies_the_topic_when_it_fires_and_when_it_clears(template: Template):
    for name, alarm in alarms(template).items():
        assert alarm["AlarmActions"] == [{"Ref": "AlarmTopic"}], name
        assert alarm["OKActions"] == [{"Ref": "AlarmTopic"}], name


def test_the_direct_path_alarms_when_firehose_refuses_events_never_for_oversize_recordings(
    template: Template,
):
    """Recordings over a Firehose record take the direct path by design: an alarm on them would
    fire on every heavy page."""
    (alarm,) = alarms_on(template, "PostHogCapture", "DirectPathThrottledEvents").values()
    read = {metric["MetricName"] for metric in metric_stats(alarm)}
    assert read == {"DirectPathThrottledEvents", "DirectPathFailedEvents"}
    assert alarms_on(template, "PostHogCapture", "DirectPathOversizeEvents") == {}


def test_the_alarm_email_is_an_optional_subscription(template: Template):
    assert template.document["Parameters"]["AlarmEmail"]["Default"] == ""
    subscription = template.resources["AlarmEmailSubscription"]
    assert subscription["Condition"] == "HasAlarmEmail"
    assert subscription["Properties"]["Endpoint"] == {"Ref": "AlarmEmail"}
    assert template.document["Conditions"]["HasAlarmEmail"] == {
        "Fn::Not": [{"Fn::Equals": [{"Ref": "AlarmEmail"}, ""]}]
    }


def test_each_function_alarms_on_errors_throttles_and_duration_near_its_own_timeout(template: Template):
    for function in FUNCTIONS:
        on_function = {
            metric["MetricName"]: alarm
            for alarm in alarms(template).values()
            for metric in metric_stats(alarm)
            if metric["Namespace"] == "AWS/Lambda"
            and dimensions(metric) == {"FunctionName": {"Ref": function}}
        }
        assert set(on_function) == {"Errors", "Throttles", "Duration"}, function
        duration = on_function["Duration"]
        (stat,) = [query["MetricStat"] for query in duration["Metrics"] if "MetricStat" in query]
        assert stat["Stat"] == "p99"
        (share,) = [query for query in duration["Metrics"] if query.get("ReturnData")]
        # The expression's divisor is the function's own Timeout, in milliseconds.
        assert share["Expression"] == f"duration / {function_timeout(template, function) * 1000}", function


def test_the_api_alarm_reads_the_apis_own_name_and_stage(template: Template):
    (alarm,) = alarms_on(template, "AWS/ApiGateway", "5XXError").values()
    api_name = template.properties("CaptureApi")["Name"]
    for metric in metric_stats(alarm):
        assert dimensions(metric) == {"ApiName": api_name, "Stage": {"Ref": "StageName"}}
    (rate,) = [query for query in alarm["Metrics"] if query.get("ReturnData")]
    assert rate["Expression"] == "IF(requests >= 20, errors / requests, 0)"


def test_emf_alarms_read_the_namespace_and_dimension_powertools_publishes(template: Template):
    variables = template.function_globals()["Environment"]["Variables"]
    emf = [alarm for alarm in alarms(template).values() if alarm.get("Namespace") == "PostHogCapture"]
    assert len(emf) >= 5
    assert variables["POWERTOOLS_METRICS_NAMESPACE"] == "PostHogCapture"
    for alarm in emf:
        # Powertools adds the one default dimension `service` (POWERTOOLS_SERVICE_NAME); ColdStart
        # alone carries function_name as well.
        assert dimensions(alarm) == {"service": variables["POWERTOOLS_SERVICE_NAME"]}


def emitted_metric_names() -> set[str]:
    """Every metric name the functions publish: the literal ones, and Rejected_<code> per error code."""
    source = "\n".join(path.read_text() for path in (ROOT / "layers/common/capture_core").rglob("*.py"))
    names = set(re.findall(r'name="([A-Za-z_]+)"', source))
    names |= set(re.findall(r'\("\w+", "([A-Z]\w+)"\)', source))  # capture v1's (result, metric) pairs
    pending: list[type[errors.CaptureError]] = [errors.CaptureError]
    while pending:
        cls = pending.pop()
        names.add(f"Rejected_{cls.code}")
        pending.extend(cls.__subclasses__())
    return names


def test_emf_alarms_name_metrics_the_functions_emit(template: Template):
    emitted = emitted_metric_names()
    assert {"EventsAccepted", "InternalErrors", "FirehoseNonRetryableErrors", "V1EventsDropped"} <= emitted
    for name, alarm in alarms(template).items():
        if alarm.get("Namespace") == "PostHogCapture":
            assert alarm["MetricName"] in emitted, name


def test_each_stream_alarms_on_throttling_freshness_and_delivery(template: Template):
    streams = template.logical_ids_of_type("AWS::KinesisFirehose::DeliveryStream")
    assert set(streams) == {"EventsStream", "RecordingsStream"}
    for stream in streams:
        on_stream = {
            alarm["MetricName"]: alarm
            for alarm in alarms(template).values()
            if alarm.get("Namespace") == "AWS/Firehose"
            and dimensions(alarm) == {"DeliveryStreamName": {"Ref": stream}}
        }
        assert set(on_stream) == {"ThrottledRecords", "DeliveryToS3.DataFreshness", "DeliveryToS3.Success"}
        freshness = on_stream["DeliveryToS3.DataFreshness"]
        assert freshness["Statistic"] == "Maximum"
        assert freshness["ComparisonOperator"] == "GreaterThanThreshold"
        # Over 900 s for two 5-minute periods in a row.
        assert (freshness["Period"], freshness["EvaluationPeriods"], freshness["DatapointsToAlarm"]) == (
            300,
            2,
            2,
        )
        success = on_stream["DeliveryToS3.Success"]
        assert (success["Threshold"], success["ComparisonOperator"]) == (1, "LessThanThreshold")
    assert template.document["Parameters"]["DataFreshnessThresholdSeconds"]["Default"] == 900


def test_the_key_table_alarms_on_read_throttles(template: Template):
    (events,) = alarms_on(template, "AWS/DynamoDB", "ReadThrottleEvents").values()
    assert dimensions(events) == {"TableName": {"Ref": "ApiKeysTable"}}
    (requests,) = alarms_on(template, "AWS/DynamoDB", "ThrottledRequests").values()
    assert dimensions(requests) == {"TableName": {"Ref": "ApiKeysTable"}, "Operation": "GetItem"}


def test_the_no_events_alarm_is_opt_in_and_treats_silence_as_breaching(template: Template):
    parameter = template.document["Parameters"]["NoEventsAlarmMinutes"]
    assert parameter["Default"] == 0
    assert template.document["Conditions"]["NoEventsAlarmOn"] == {
        "Fn::Not": [{"Fn::Equals": [{"Ref": "NoEventsAlarmMinutes"}, "0"]}]
    }
    alarm = template.resources["NoEventsAlarm"]
    assert alarm["Condition"] == "NoEventsAlarmOn"
    properties = alarm["Properties"]
    assert (properties["MetricName"], properties["TreatMissingData"]) == ("EventsAccepted", "breaching")
    assert (properties["Period"], properties["EvaluationPeriods"]) == (60, {"Ref": "NoEventsAlarmMinutes"})
    assert (properties["Threshold"], properties["ComparisonOperator"]) == (1, "LessThanThreshold")


def test_quiet_periods_do_not_alarm_except_no_events(template: Template):
    for name, alarm in alarms(template).items():
        expected = "breaching" if name == "NoEventsAlarm" else "notBreaching"
        assert alarm["TreatMissingData"] == expected, name


def runbook_anchors() -> set[str]:
    text = (ROOT / "docs" / "runbook.md").read_text()
    headings = re.findall(r"^#+ (.+)$", text, re.M)
    return {re.sub(r"[^a-z0-9 -]", "", heading.lower()).replace(" ", "-") for heading in headings}


def test_every_alarm_says_what_to_do_in_a_runbook_section_that_exists(template: Template):
    anchors = runbook_anchors()
    for name, alarm in alarms(template).items():
        links = re.findall(r"docs/runbook\.md#([a-z0-9-]+)", alarm["AlarmDescription"])
        assert links, f"{name} points to no runbook section"
        assert set(links) <= anchors, name


# The dashboard


def dashboard(template: Template) -> dict[str, Any]:
    """The dashboard's body as CloudWatch receives it, with every ${...} given a stand-in."""
    body, variables = template.properties("Dashboard")["DashboardBody"]["Fn::Sub"]
    assert set(variables) == {"NoEventsAlarmArn"}
    text = body.replace("${NoEventsAlarmArn}", ',"arn:no-events"')
    text = text.replace("${DataFreshnessThresholdSeconds}", "900")
    return dict(json.loads(re.sub(r"\$\{([^}]+)\}", r"<\1>", text)))


def widget_metrics(widget: dict[str, Any]) -> list[list[Any]]:
    return list(widget["properties"].get("metrics", []))


def test_the_dashboard_shows_what_the_brief_asks(template: Template):
    widgets = dashboard(template)["widgets"]
    shown = {tuple(m[:2]) for widget in widgets for m in widget_metrics(widget) if isinstance(m[0], str)}
    assert {
        ("AWS/ApiGateway", "Count"),
        ("AWS/ApiGateway", "4XXError"),
        ("AWS/ApiGateway", "5XXError"),
        ("PostHogCapture", "EventsAccepted"),
        ("AWS/Lambda", "Duration"),
        ("AWS/Lambda", "ConcurrentExecutions"),
        ("AWS/Firehose", "IncomingBytes"),
        ("AWS/Firehose", "DeliveryToS3.Bytes"),
        ("AWS/Firehose", "DeliveryToS3.DataFreshness"),
        ("AWS/DynamoDB", "ConsumedReadCapacityUnits"),
        ("AWS/DynamoDB", "ReadThrottleEvents"),
        ("PostHogCapture", "DirectPathOversizeEvents"),
        ("PostHogCapture", "DirectPathThrottledEvents"),
        ("PostHogCapture", "DirectPathFailedEvents"),
        ("PostHogCapture", "DirectPathErrors"),
    } <= shown
    expressions = " ".join(
        m[0]["expression"] for widget in widgets for m in widget_metrics(widget) if isinstance(m[0], dict)
    )
    assert "{PostHogCapture,service} Rejected" in expressions
    assert 'MetricName="ColdStart"' in expressions


def test_the_dashboard_shows_p50_and_p99_of_every_function_and_every_streams_freshness(template: Template):
    metrics = [m for w in dashboard(template)["widgets"] for m in widget_metrics(w) if isinstance(m[0], str)]
    for function in FUNCTIONS:
        stats = {m[-1]["stat"] for m in metrics if m[1] == "Duration" and m[3] == f"<{function}>"}
        assert stats == {"p50", "p99"}, function
    for stream in template.logical_ids_of_type("AWS::KinesisFirehose::DeliveryStream"):
        assert any(m[1] == "DeliveryToS3.DataFreshness" and m[3] == f"<{stream}>" for m in metrics)


def test_the_dashboards_alarm_widget_lists_every_alarm(template: Template):
    (widget,) = [w for w in dashboard(template)["widgets"] if w["type"] == "alarm"]
    listed = set(widget["properties"]["alarms"])
    expected = {f"<{name}.Arn>" for name in alarms(template) if name != "NoEventsAlarm"}
    assert listed == expected | {"arn:no-events"}


# Querying with Athena


TABLES = {"EventsTable": ("events", "EventsStream"), "RecordingsTable": ("recordings", "RecordingsStream")}


def test_the_template_is_what_make_athena_writes_from_the_schema():
    current = (ROOT / "template.yaml").read_text()
    assert athena.render(current, athena.load_schema()) == current, "run `make athena`"


@pytest.mark.parametrize("table", TABLES)
def test_glue_columns_are_the_stored_event_schemas_fields(template: Template, table: str):
    schema = athena.load_schema()
    descriptor = template.properties(table)["TableInput"]["StorageDescriptor"]
    names = [column["Name"] for column in descriptor["Columns"]]
    mappings = descriptor["SerdeInfo"]["Parameters"]
    keys = [mappings.get(f"mapping.{name}", name) for name in names]
    assert keys == list(schema["properties"])
    assert set(schema["required"]) <= set(keys)
    types = {column["Name"]: column["Type"] for column in descriptor["Columns"]}
    assert types["project_id"] == "bigint"
    assert types["historical_migration"] == "boolean"
    # Nested objects are JSON text, read with json_extract.
    assert types["properties"] == types["set"] == types["set_once"] == "string"
    assert mappings["mapping.set"] == "$set"


@pytest.mark.parametrize("table", TABLES)
def test_tables_read_keys_case_sensitively_so_no_clients_casing_fails_a_query(template: Template, table: str):
    """By default the OpenX SerDe lower-cases every key and fails a whole query on a line whose keys
    differ only in case ("Duplicate key"); any client could send one. Read case-sensitively, each
    column reads exactly its key: its own name when that is the key, else a mapping to it."""
    descriptor = template.properties(table)["TableInput"]["StorageDescriptor"]
    parameters = descriptor["SerdeInfo"]["Parameters"]
    assert parameters["case.insensitive"] == "false"
    for column in descriptor["Columns"]:
        key = parameters.get(f"mapping.{column['Name']}", column["Name"])
        assert key in athena.load_schema()["properties"], column["Name"]
        # A column that reads its own name must be spelled as the key is: Glue lower-cases names.
        assert f"mapping.{column['Name']}" in parameters or key == key.lower()


def test_make_query_reads_each_column_from_its_exact_key_as_athena_does(tmp_path: Path):
    from capture_admin import query

    folder = tmp_path / "events" / "year=2026" / "month=12" / "day=07" / "hour=04"
    folder.mkdir(parents=True)
    line = {"uuid": "u", "event": "e", "token": "stored", "Token": "client", "$set": {"a": 1}, "SET": "x",
            "properties": {"Plan": 1, "plan": 2}}  # fmt: skip
    (folder / "x.gz").write_bytes(gzip.compress(json.dumps(line).encode() + b"\n"))
    session = query.connect(
        {"events": tmp_path / "events", "recordings": tmp_path / "none"}, athena.load_schema()
    )
    ((token, person, upper, lower),) = session.sql(
        """SELECT token, "set", json_extract_scalar(properties, '$["Plan"]'),
                  json_extract_scalar(properties, '$["plan"]') FROM events"""
    ).fetchall()
    assert (token, json.loads(person), upper, lower) == ("stored", {"a": 1}, "1", "2")


@pytest.mark.parametrize("table", TABLES)
def test_tables_read_gzip_ndjson_with_the_openx_serde_refusing_malformed_lines(
    template: Template, table: str
):
    table_input = template.properties(table)["TableInput"]
    assert table_input["Name"] == TABLES[table][0]
    assert table_input["TableType"] == "EXTERNAL_TABLE"
    descriptor = table_input["StorageDescriptor"]
    assert descriptor["SerdeInfo"]["SerializationLibrary"] == "org.openx.data.jsonserde.JsonSerDe"
    assert descriptor["SerdeInfo"]["Parameters"]["ignore.malformed.json"] == "false"
    assert descriptor["InputFormat"] == "org.apache.hadoop.mapred.TextInputFormat"
    assert table_input["Parameters"]["compressionType"] == "gzip"
    assert template.properties(table)["DatabaseName"] == {"Ref": "AnalyticsDatabase"}


def prefix_keys(prefix: str) -> list[tuple[str, str]]:
    """`events/year=!{timestamp:yyyy}/month=!{timestamp:MM}/…` -> [("year", "yyyy"), ("month", "MM"), …]."""
    return re.findall(r"(\w+)=!\{timestamp:(\w+)\}", prefix)


@pytest.mark.parametrize("table", TABLES)
def test_partition_projection_matches_the_firehose_prefix(template: Template, table: str):
    name, stream = TABLES[table]
    prefix = template.properties(stream)["ExtendedS3DestinationConfiguration"]["Prefix"]
    keys = prefix_keys(prefix)
    assert [key for key, _ in keys] == ["year", "month", "day", "hour"]
    table_input = template.properties(table)["TableInput"]
    assert [key["Name"] for key in table_input["PartitionKeys"]] == [key for key, _ in keys]
    parameters = table_input["Parameters"]
    assert parameters["projection.enabled"] == "true"
    # The location template is the Firehose prefix with each timestamp part a projected key.
    location = re.sub(r"(\w+)=!\{timestamp:\w+\}", r"\1=${!\1}", prefix)
    assert parameters["storage.location.template"] == {"Fn::Sub": f"s3://${{EventsBucket}}/{location}"}
    assert table_input["StorageDescriptor"]["Location"] == {"Fn::Sub": f"s3://${{EventsBucket}}/{name}/"}
    # Each projected key is spelled as the timestamp format writes it.
    width = dict(keys)
    assert (parameters["projection.year.type"], parameters["projection.year.format"]) == (
        "date",
        width["year"],
    )
    for key in ("month", "day", "hour"):
        assert parameters[f"projection.{key}.type"] == "integer"
        assert parameters[f"projection.{key}.digits"] == str(len(width[key]))
    assert parameters["projection.month.range"] == "1,12"
    assert parameters["projection.day.range"] == "1,31"
    assert parameters["projection.hour.range"] == "0,23"


def test_the_workgroup_enforces_its_encrypted_results_location_and_scan_limit(template: Template):
    configuration = template.properties("AnalyticsWorkGroup")["WorkGroupConfiguration"]
    assert configuration["EnforceWorkGroupConfiguration"] is True
    assert configuration["BytesScannedCutoffPerQuery"] == {"Ref": "QueryScanLimitBytes"}
    results = configuration["ResultConfiguration"]
    assert results["OutputLocation"] == {"Fn::Sub": "s3://${QueryResultsBucket}/results/"}
    assert results["EncryptionConfiguration"] == {"EncryptionOption": "SSE_S3"}
    rules = template.properties("QueryResultsBucket")["LifecycleConfiguration"]["Rules"]
    assert {
        "Id": "ExpireQueryResults",
        "Status": "Enabled",
        "ExpirationInDays": {"Ref": "QueryResultsRetentionDays"},
    } in rules


def named_queries(template: Template) -> dict[str, dict[str, Any]]:
    return {name: body["Properties"] for name, body in of_type(template, "AWS::Athena::NamedQuery").items()}


def test_named_queries_count_days_events_users_and_create_the_view(template: Template):
    queries = named_queries(template)
    assert set(queries) == {
        "EventsPerDayQuery",
        "TopEventsQuery",
        "DailyUniqueUsersQuery",
        "DeduplicatedViewQuery",
    }
    for query in queries.values():
        assert (query["Database"], query["WorkGroup"]) == (
            {"Ref": "AnalyticsDatabase"},
            {"Ref": "AnalyticsWorkGroup"},
        )
    assert queries["DeduplicatedViewQuery"]["QueryString"] == athena.deduplicated_view_sql(
        athena.load_schema()
    )
    for name in ("EventsPerDayQuery", "TopEventsQuery", "DailyUniqueUsersQuery"):
        sql = queries[name]["QueryString"]
        # Every saved query reads only the partitions it needs.
        assert (
            "WHERE year = date_format(current_date, '%Y') AND month = date_format(current_date, '%m')" in sql
        )
        assert f"FROM {athena.EVENTS_TABLE}\n" in sql


def test_the_view_keeps_one_copy_per_uuid_and_can_be_pruned_by_day():
    sql = athena.deduplicated_view_sql(athena.load_schema())
    assert sql.startswith(f"CREATE OR REPLACE VIEW {athena.DEDUPLICATED_VIEW} AS\n")
    assert "PARTITION BY year, month, day, uuid" in sql
    assert athena.DEDUPLICATED_VIEW == "events_deduplicated"
    assert (athena.EVENTS_TABLE, athena.RECORDINGS_TABLE) == ("events", "recordings")


# A custom domain


def test_the_custom_domain_is_optional_regional_and_maps_the_apis_stage(template: Template):
    parameters = template.document["Parameters"]
    assert parameters["DomainName"]["Default"] == parameters["CertificateArn"]["Default"] == ""
    assert parameters["ApiBasePath"]["Default"] == ""
    domain = template.resources["CustomDomain"]
    assert (domain["Type"], domain["Condition"]) == ("AWS::ApiGateway::DomainName", "HasCustomDomain")
    assert domain["Properties"]["EndpointConfiguration"] == {"Types": ["REGIONAL"]}
    assert domain["Properties"]["RegionalCertificateArn"] == {"Ref": "CertificateArn"}
    mapping = template.resources["CustomDomainMapping"]
    assert mapping["Condition"] == "HasCustomDomain"
    assert mapping["Properties"]["RestApiId"] == {"Ref": "CaptureApi"}
    assert mapping["Properties"]["Stage"] == {"Ref": "CaptureApi.Stage"}
    assert mapping["Properties"]["BasePath"] == {
        "Fn::If": ["HasBasePath", {"Ref": "ApiBasePath"}, {"Ref": "AWS::NoValue"}]
    }


def test_the_functions_route_without_the_base_path_the_domain_maps(template: Template):
    variables = template.function_globals()["Environment"]["Variables"]
    assert variables["API_BASE_PATH"] == {"Ref": "ApiBasePath"}
    assert "API_BASE_PATH" in Settings.descriptions()


def test_the_sdks_host_on_the_domain_is_an_output(template: Template):
    output = template.document["Outputs"]["CustomDomainUrl"]
    assert output["Condition"] == "HasCustomDomain"
    assert output["Value"] == {
        "Fn::If": [
            "HasBasePath",
            {"Fn::Sub": "https://${DomainName}/${ApiBasePath}"},
            {"Fn::Sub": "https://${DomainName}"},
        ]
    }
    assert template.document["Outputs"]["CustomDomainTarget"]["Value"] == {
        "Fn::GetAtt": "CustomDomain.RegionalDomainName"
    }


def test_a_domain_needs_its_certificate_and_a_base_path_needs_a_domain(template: Template):
    rules = template.document["Rules"]
    assert rules["CertificateForTheDomain"]["Assertions"][0]["Assert"] == {
        "Fn::Not": [{"Fn::Equals": [{"Ref": "CertificateArn"}, ""]}]
    }
    assert rules["BasePathOnTheDomain"]["Assertions"][0]["Assert"] == {
        "Fn::Not": [{"Fn::Equals": [{"Ref": "DomainName"}, ""]}]
    }


# Still least privilege


def test_no_function_policy_grants_a_wildcard(template: Template):
    for function in FUNCTIONS:
        for statement in template.properties(function)["Policies"][0]["Statement"]:
            assert "*" not in str(statement["Action"]), function
            assert statement["Resource"] != "*", function


def test_the_readme_documents_every_template_parameter(template: Template):
    readme = (ROOT / "README.md").read_text()
    table = readme.split("### Template parameters", 1)[1].split("\n## ", 1)[0]
    documented = set(re.findall(r"`([A-Za-z0-9]+)`", table))
    assert set(template.document["Parameters"]) <= documented
