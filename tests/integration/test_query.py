"""`make query` end to end: events sent to the local stack, read back with the SQL and the names
Athena has on AWS (the template's named queries, the de-duplicating view)."""

from __future__ import annotations

import json
import os
import subprocess
import uuid
from pathlib import Path
from typing import Any
from urllib.request import Request, urlopen

import pytest
from capture_admin import query
from capture_local import LocalStack, names
from capture_local.template import Template

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = Template.load(names.DEFAULT_TEMPLATE)
# Every saved query of the template, read from the template itself (not from `make query`'s list).
SAVED_QUERIES = [
    TEMPLATE.properties(logical_id)["Name"]
    for logical_id in TEMPLATE.logical_ids_of_type("AWS::Athena::NamedQuery")
]
DEDUPLICATED_VIEW_QUERY = "Create the events_deduplicated view (run once)"


def send(stack: LocalStack, batch: list[dict[str, Any]]) -> None:
    body = json.dumps({"api_key": stack.token, "batch": batch}).encode()
    with urlopen(Request(f"{stack.api_url}/batch/", body, {"Content-Type": "application/json"})) as reply:
        assert reply.status == 200


@pytest.fixture
def run_id(local_stack: LocalStack) -> str:
    """Three users' events, one of them sent twice with its uuid (a retry, docs/protocol.md §7)."""
    run = f"query-{uuid.uuid4()}"
    retried = str(uuid.uuid4())
    events = [
        {
            "event": "signed up",
            "distinct_id": f"{run}-a",
            "properties": {"$browser": "Firefox"},
            "uuid": retried,
        },
        {"event": "signed up", "distinct_id": f"{run}-b", "properties": {"$browser": "Chrome"}},
        {
            "event": "paid",
            "distinct_id": f"{run}-b",
            "properties": {"$browser": "Chrome"},
            "$set": {"plan": "pro"},
        },
        {"event": "paid", "distinct_id": f"{run}-c", "properties": {"$browser": "Chrome"}},
    ]
    send(local_stack, events)
    send(local_stack, events[:1])
    return run


def rows(local_stack: LocalStack, tmp_path: Path, sql: str) -> list[tuple[Any, ...]]:
    return list(query.local_session(tmp_path, local_stack.moto_url).sql(sql).fetchall())


def make_query(local_stack: LocalStack, *variables: str) -> subprocess.CompletedProcess[str]:
    """`make query` with these variables (`SQL=...`, `NAMED=...`), against the session's stack."""
    return subprocess.run(
        ["make", "--no-print-directory", "query", *variables],
        cwd=ROOT,
        env={**os.environ, "MOTO_PORT": str(local_stack.moto_port)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_named_queries_answer_over_the_local_events(local_stack: LocalStack, tmp_path: Path, run_id: str):
    named = query.named_queries(names.DEFAULT_TEMPLATE)
    counting = ("Events per day (this month)", "Top events (today)", "Daily unique users (this month)")
    session = query.local_session(tmp_path, local_stack.moto_url)
    # Each named query, as the template has it, over only this run's events.
    mine = f"(SELECT * FROM events WHERE starts_with(distinct_id, '{run_id}'))"
    answers = {
        name: session.sql(named[name].replace("FROM events", f"FROM {mine}")).fetchall() for name in counting
    }
    (today,) = {day for day, _ in answers["Events per day (this month)"]}
    assert answers["Events per day (this month)"] == [(today, 4)]
    assert sorted(answers["Top events (today)"]) == [("paid", 2, 2), ("signed up", 2, 2)]
    assert answers["Daily unique users (this month)"] == [(today, 3)]


def test_the_tables_have_athenas_columns_and_partitions(local_stack: LocalStack, tmp_path: Path, run_id: str):
    stored = rows(
        local_stack,
        tmp_path,
        f"""SELECT event, json_extract_scalar(properties, '$["$browser"]'), "set", project_id, year, hour
            FROM events WHERE distinct_id = '{run_id}-b' ORDER BY event""",
    )
    assert [row[:4] for row in stored] == [
        ("paid", "Chrome", '{"plan":"pro"}', names.DEMO_PROJECT_ID),
        ("signed up", "Chrome", None, names.DEMO_PROJECT_ID),
    ]
    assert all(len(row[4]) == 4 and len(row[5]) == 2 for row in stored)  # the partitions, as strings


def test_the_deduplicated_view_keeps_one_copy_of_a_retried_event(
    local_stack: LocalStack, tmp_path: Path, run_id: str
):
    sql = "SELECT count(*) FROM {} WHERE distinct_id = '" + run_id + "-a'"
    assert rows(local_stack, tmp_path, sql.format("events")) == [(2,)]
    assert rows(local_stack, tmp_path, sql.format("events_deduplicated")) == [(1,)]


def test_make_query_runs_sql_with_its_dollars_intact(local_stack: LocalStack, run_id: str):
    sql = f"""SELECT json_extract_scalar(properties, '$["$browser"]') AS browser FROM events
              WHERE distinct_id = '{run_id}-a' LIMIT 1"""
    done = make_query(local_stack, f"SQL={sql}")
    assert done.returncode == 0, done.stderr
    assert "Firefox" in done.stdout


def test_make_query_prints_the_result_of_every_statement_in_order(local_stack: LocalStack):
    done = make_query(local_stack, "SQL=SELECT 'one;' AS first_answer; SELECT 2 AS second_answer")
    assert done.returncode == 0, done.stderr
    assert "one;" in done.stdout
    assert done.stdout.index("first_answer") < done.stdout.index("second_answer")


def test_make_query_lists_every_saved_query_of_the_template(local_stack: LocalStack):
    done = make_query(local_stack, "NAMED=list")
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == SAVED_QUERIES


@pytest.mark.parametrize("name", SAVED_QUERIES)
def test_make_query_runs_every_saved_query_of_the_template(local_stack: LocalStack, run_id: str, name: str):
    done = make_query(local_stack, f"NAMED={name}")
    assert done.returncode == 0, done.stderr
    assert "error" not in done.stderr


def test_the_deduplicated_views_saved_query_leaves_the_view_deduplicating(
    local_stack: LocalStack, tmp_path: Path, run_id: str
):
    session = query.local_session(tmp_path, local_stack.moto_url)
    assert query.run(session, query.named_queries(names.DEFAULT_TEMPLATE)[DEDUPLICATED_VIEW_QUERY])
    sql = f"SELECT count(*) FROM events_deduplicated WHERE distinct_id = '{run_id}-a'"
    assert session.sql(sql).fetchall() == [(1,)]
