"""The golden corpus: recorded requests replayed through the handlers with a fixed clock, compared
strictly with the answers and stored events recorded for them (see record.py)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from golden.corpus import CASES, replay
from golden.scenarios import SCENARIOS

CASE_FILES = sorted(CASES.glob("*.json"), key=lambda path: path.name)


def test_every_scenario_has_a_recorded_case():
    assert {path.stem for path in CASE_FILES} == {scenario.name for scenario in SCENARIOS}


def test_the_corpus_covers_every_section_of_the_contract():
    covered = " ".join(json.loads(path.read_text())["covers"] for path in CASE_FILES)
    # §9 (delivery) is about Firehose, not the wire: the delivery tests cover it.
    assert [section for section in (*range(1, 9), 10, 11, 12) if f"§{section}" not in covered] == []
    assert {"posthog-js", "posthog-python", "posthog-node"} <= {
        w for w in covered.split() if w.startswith("posthog")
    }


@pytest.mark.parametrize("path", CASE_FILES, ids=[path.stem for path in CASE_FILES])
def test_case_replays_exactly(path: Path):
    case: dict[str, Any] = json.loads(path.read_text())
    response, stored, recordings = replay(case["request"])
    expected = case["response"]
    for field in ("detail", "error_description"):
        if isinstance(expected["body"], dict) and field in expected["body"]:
            # Error messages are for people and may be reworded; everything else is the contract.
            assert isinstance(response["body"][field], str)
            assert response["body"][field]
            response["body"][field] = expected["body"][field]
    assert response == expected
    assert stored == case["events"]
    assert recordings == case.get("recordings", [])
