"""The usage counter on the local stack's AWS (moto): every object delivered under a stream's prefix
is counted once into its project's month, by the same function and EventBridge rule as on AWS;
quotas reached are marked on the project's items and notified once per threshold."""

from __future__ import annotations

import gzip
import itertools
import json
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from capture_admin.cli import main
from capture_admin.store import KeyAdmin
from capture_core.auth.key_items import ProjectSettings
from capture_core.auth.quotas import EVENTS, RECORDINGS, month_of
from capture_core.events.batch import read_batch
from capture_core.events.lines import SizeRule, stored_lines
from capture_core.events.stored import Arrival
from capture_core.usage.counter import UsageCounter
from capture_core.usage.ledger import Ledger
from capture_local import LocalStack, names

pytestmark = pytest.mark.integration

_projects = itertools.count(1200)
MONTH = month_of(datetime.now(UTC))


def admin(stack: LocalStack) -> KeyAdmin:
    return KeyAdmin(stack.client("dynamodb"), names.TABLE_NAME, names.USAGE_TABLE_NAME)


def ledger(stack: LocalStack) -> Ledger:
    return Ledger(stack.client("dynamodb"), names.TABLE_NAME, names.USAGE_TABLE_NAME)


def new_project(stack: LocalStack, **limits: int | None) -> tuple[int, str]:
    project_id = next(_projects)
    token = admin(stack).create_project(project_id, "usage", ProjectSettings(session_recording=True))
    if limits:
        admin(stack).set_quota(project_id, limits)
    return project_id, token


def deliver(stack: LocalStack, prefix: str, sent: list[tuple[int, dict[str, Any]]], name: str = "") -> str:
    """An object of these events (project id, event as sent), stored as a stream (or the direct
    path) stores them; the stack counts it as AWS would."""
    key = f"{prefix}year=2026/month=12/day=07/hour=12/{name or 'capture-local-events-1'}-{uuid.uuid4()}.gz"
    lines = []
    for project_id, event in sent:
        arrival = Arrival(now=datetime.now(UTC), ip=None, project_id=project_id, token="phc_usage_test")
        lines += stored_lines(read_batch([event]), arrival, SizeRule(None, 1 << 20))
    body = gzip.compress(b"".join(line + b"\n" for line in lines))
    stack.client("s3").put_object(Bucket=stack.resources.buckets["EventsBucket"], Key=key, Body=body)
    stack.settle()
    return key


def events(project_id: int, count: int) -> list[tuple[int, dict[str, Any]]]:
    return [(project_id, {"event": "usage test", "distinct_id": "u", "properties": {}})] * count


def snapshots(project_id: int, *sessions: str) -> list[tuple[int, dict[str, Any]]]:
    data = {"$snapshot_data": [{"type": 3, "data": {}}]}
    return [
        (project_id, {"event": "$snapshot", "distinct_id": "u", "properties": {"$session_id": s, **data}})
        for s in sessions
    ]


def usage(stack: LocalStack, project_id: int) -> dict[str, int]:
    return dict(ledger(stack).usage([project_id], MONTH)[project_id].counted)


def key_item(stack: LocalStack, token: str) -> dict[str, Any]:
    return stack.client("dynamodb").get_item(TableName=names.TABLE_NAME, Key={"key_id": {"S": token}})["Item"]


def test_each_delivered_object_is_counted_once_whichever_writer_and_however_often_notified(
    local_stack: LocalStack,
):
    project_id, _ = new_project(local_stack)
    first = deliver(local_stack, "events/", events(project_id, 3))
    deliver(
        local_stack, "events/", events(project_id, 2), name="direct-capture-local-events-2026-12-07-12-00-00"
    )
    assert usage(local_stack, project_id) == {EVENTS: 5, RECORDINGS: 0}
    # EventBridge delivers at least once: the same object again adds nothing.
    counter = UsageCounter(
        ledger(local_stack), local_stack.client("s3"), {"events/": EVENTS}, lambda notice: None
    )
    result = counter.count_object(local_stack.resources.buckets["EventsBucket"], first, datetime.now(UTC))
    assert result == {"lane": EVENTS, "already_counted": True}
    assert usage(local_stack, project_id) == {EVENTS: 5, RECORDINGS: 0}


def test_a_recorded_session_counts_once_a_month_however_many_objects_hold_it(local_stack: LocalStack):
    project_id, _ = new_project(local_stack)
    deliver(
        local_stack,
        "recordings/",
        snapshots(project_id, "s-1", "s-1", "s-2"),
        name="capture-local-recordings-1",
    )
    deliver(
        local_stack, "recordings/", snapshots(project_id, "s-2", "s-3"), name="capture-local-recordings-1"
    )
    assert usage(local_stack, project_id) == {EVENTS: 0, RECORDINGS: 3}
    # A retry of the object that counted a session counts it again (its first try did not finish).
    assert ledger(local_stack).new_sessions(project_id, MONTH, ["s-3"], "another object") == 0
    marks = local_stack.client("dynamodb").scan(TableName=names.USAGE_TABLE_NAME)["Items"]
    counted_by = next(
        item["counted_by"]["S"]
        for item in marks
        if item["usage_id"]["S"].endswith(f"{project_id}#{MONTH}#s-3")
    )
    assert ledger(local_stack).new_sessions(project_id, MONTH, ["s-3"], counted_by) == 1


def test_a_quota_reached_marks_the_project_and_every_key_and_notifies_once_per_threshold(
    local_stack: LocalStack,
):
    sns, sqs = local_stack.client("sns"), local_stack.client("sqs")
    queue = sqs.create_queue(QueueName=f"notices-{uuid.uuid4()}")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    topic = next(
        iter(local_stack.resources.refs(local_stack.region)[name] for name in local_stack.resources.topics)
    )
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn)
    project_id, token = new_project(local_stack, events=10)
    second_key = admin(local_stack).create_project_key(project_id)
    deliver(local_stack, "events/", events(project_id, 7))
    assert "over_quota_events" not in key_item(local_stack, token)
    deliver(local_stack, "events/", events(project_id, 1))  # 80 %
    deliver(local_stack, "events/", events(project_id, 2))  # 100 %
    deliver(local_stack, "events/", events(project_id, 4))  # past it: no new notice
    for key in (token, second_key):
        assert key_item(local_stack, key)["over_quota_events"] == {"S": MONTH}
    # A key made now is over quota as its project is.
    assert key_item(local_stack, admin(local_stack).create_project_key(project_id))["over_quota_events"] == {
        "S": MONTH
    }
    messages = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10, WaitTimeSeconds=1).get(
        "Messages", []
    )
    subjects = sorted(json.loads(message["Body"])["Subject"] for message in messages)
    assert subjects == [
        f"Project {project_id} has used 100% of its events quota for {MONTH}",
        f"Project {project_id} has used 80% of its events quota for {MONTH}",
    ]


def test_raising_a_quota_lifts_it_at_once_and_lowering_it_below_the_usage_imposes_it(local_stack: LocalStack):
    project_id, token = new_project(local_stack, events=5)
    deliver(local_stack, "events/", events(project_id, 6))
    assert key_item(local_stack, token)["over_quota_events"] == {"S": MONTH}
    admin(local_stack).set_quota(project_id, {EVENTS: 100})
    assert "over_quota_events" not in key_item(local_stack, token)
    admin(local_stack).set_quota(project_id, {EVENTS: 6})
    assert key_item(local_stack, token)["over_quota_events"] == {"S": MONTH}
    admin(local_stack).set_quota(project_id, {EVENTS: None})
    assert "over_quota_events" not in key_item(local_stack, token)


def test_capture_keys_sets_and_shows_quotas_and_the_months_usage(
    local_stack: LocalStack, capsys: pytest.CaptureFixture[str]
):
    project_id, _ = new_project(local_stack)
    deliver(local_stack, "events/", events(project_id, 4))
    local = ["--local", "--endpoint-url", local_stack.moto_url]
    assert main([*local, "quota", str(project_id), "--events", "1,000", "--recordings", "off"]) == 0
    assert f"project {project_id}  events: 4 of 1,000 events in {MONTH} (0%)" in capsys.readouterr().out
    assert main([*local, "usage"]) == 0
    row = next(line for line in capsys.readouterr().out.splitlines() if line.split()[0] == str(project_id))
    assert row.split() == [str(project_id), MONTH, "4", "1,000", "0", "none"]
    assert main([*local, "projects"]) == 0
    assert f"quotas    events: 4 of 1,000 events in {MONTH}" in capsys.readouterr().out
    assert main([*local, "quota", str(project_id), "--events", "-3"]) == 2
    assert "is not a whole number" in capsys.readouterr().err
