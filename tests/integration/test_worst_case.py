"""No body within the limits pushes a function past 60 % of its memory or past its timeout at
Lambda's CPU share: the worst inputs of bench/worst_case.py, each in a process of its own (forked
from one that has imported the function's handler and served a request, as a warm Lambda has)."""

from __future__ import annotations

import pytest
import worst_case

pytestmark = pytest.mark.integration

CONTRACT_ANSWERS = {200, 400, 401, 413}


@pytest.fixture(scope="module")
def results() -> list[worst_case.Result]:
    return list(worst_case.run_all())


def test_every_worst_case_stays_within_memory_and_time(results: list[worst_case.Result]):
    over = [result for result in results if not result.within_limits]
    assert not over, "\n" + worst_case.table(over)


def test_every_worst_case_gets_a_contract_answer(results: list[worst_case.Result]):
    assert {result.status for result in results} <= CONTRACT_ANSWERS, worst_case.table(results)


def test_bombs_are_refused_before_they_are_parsed(results: list[worst_case.Result]):
    bombs = [result for result in results if result.case.name.startswith("empty objects, 19.9")]
    assert bombs
    for result in bombs:
        assert (result.status, result.code) == (413, "request_too_large")
        assert result.cpu_s < 0.5


def test_a_legitimate_20_mib_batch_is_stored_by_both_functions(results: list[worst_case.Result]):
    legit = {
        result.case.function: result.status for result in results if result.case.name.startswith("browser")
    }
    assert legit == {"CaptureFunction": 200, "BatchFunction": 200}


def test_lz_string_streams_are_refused_for_what_they_are(results: list[worst_case.Result]):
    # The bomb passes the payload limit from 34 KB; the largest bodies of codes and of literals
    # decode in full and are refused as the garbage they decode to.
    answers = {
        result.case.name: (result.status, result.code)
        for result in results
        if "lz-string" in result.case.name
    }
    assert answers == {
        "lz-string bomb": (413, "request_too_large"),
        "lz-string, the largest body of codes naming one entry": (400, "invalid_payload"),
        "lz-string, the largest body of literals": (400, "invalid_payload"),
    }


def test_the_largest_recordings_a_request_can_carry_are_stored(results: list[worst_case.Result]):
    # One snapshot over a Firehose record (as posthog-js sends it, or as large as the payload
    # allows), or the most snapshots the limits admit: each stored, none refused for its size.
    recordings = {result.case.name: result.status for result in results if "$snapshot" in result.case.name}
    assert len(recordings) == 6
    assert set(recordings.values()) == {200}, recordings


def test_while_firehose_throttles_the_most_a_request_stores_goes_to_s3_within_bounds(
    results: list[worst_case.Result],
):
    # Every line of the largest stored requests written to S3 by the direct path, gzip'd: stored
    # (200), within memory and time like every other case.
    throttled = [(result.case.path, result.status) for result in results if result.case.firehose]
    assert sorted(throttled) == [("/batch/", 200), ("/e/", 200), ("/s/", 200), ("/s/", 200)]
