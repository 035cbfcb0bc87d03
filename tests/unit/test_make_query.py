"""`make query`'s runner: every statement of a SQL text, each result printed in order."""

from __future__ import annotations

from typing import Any

import duckdb
import pytest
from capture_admin import query


@pytest.fixture
def session() -> Any:
    return duckdb.connect()


def test_every_statement_of_a_text_prints_its_result_in_order(
    session: Any, capsys: pytest.CaptureFixture[str]
):
    assert query.run(session, "SELECT 1 AS first_column; SELECT 2 AS second_column")
    printed = capsys.readouterr().out
    assert "first_column" in printed
    assert "second_column" in printed
    assert printed.index("first_column") < printed.index("second_column")


def test_a_semicolon_inside_a_string_literal_stays_in_its_statement(
    session: Any, capsys: pytest.CaptureFixture[str]
):
    assert query.run(session, "SELECT 'a;b' AS text; SELECT 'c' AS other")
    printed = capsys.readouterr().out
    assert "a;b" in printed
    assert "other" in printed


def test_a_later_statement_reads_what_an_earlier_one_made(session: Any, capsys: pytest.CaptureFixture[str]):
    assert query.run(session, "CREATE TABLE t AS SELECT 41 AS n; SELECT n + 1 AS answer FROM t")
    assert "42" in capsys.readouterr().out


def test_a_failing_statement_fails_the_run_after_the_results_before_it(
    session: Any, capsys: pytest.CaptureFixture[str]
):
    assert not query.run(session, "SELECT 1 AS before_it; SELECT * FROM missing; SELECT 3 AS after_it")
    printed = capsys.readouterr()
    assert "before_it" in printed.out
    assert "after_it" not in printed.out
    assert "missing" in printed.err
