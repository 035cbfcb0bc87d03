"""Writes tests/golden/cases/ from scenarios.py, after checking each scenario's stated expectations.

Run it (`make golden`) after adding a scenario or changing behaviour on purpose, then read the diff
of the case files: they are what test_golden.py holds the code to.
"""

from __future__ import annotations

import base64
import json
import sys
from typing import Any

from golden.corpus import CASES, replay
from golden.scenarios import SCENARIOS, Scenario


def request_of(scenario: Scenario) -> dict[str, Any]:
    return {
        "method": scenario.method,
        "path": scenario.path,
        "query": scenario.query,
        "headers": scenario.headers,
        "body_base64": base64.b64encode(scenario.body).decode() if scenario.body is not None else None,
    }


def problems(scenario: Scenario, response: dict[str, Any], stored: list[dict[str, Any]]) -> list[str]:
    found = []
    if response["status"] != scenario.status:
        found.append(f"status {response['status']} != {scenario.status}: {response['body']}")
    body = response["body"] or {}
    if scenario.code and (body.get("code"), body.get("attr")) != (scenario.code, scenario.attr):
        found.append(f"error {body.get('code')}/{body.get('attr')} != {scenario.code}/{scenario.attr}")
    for key, value in scenario.answer.items():
        if not isinstance(response["body"], dict) or response["body"].get(key) != value:
            found.append(f"answer {key}: {body.get(key)!r} != {value!r}")
    if len(stored) != len(scenario.events):
        found.append(f"{len(stored)} events stored, {len(scenario.events)} expected")
    for index, (expected, actual) in enumerate(zip(scenario.events, stored, strict=False)):
        for key, value in expected.items():
            if actual.get(key) != value:
                found.append(f"event {index} {key}: {actual.get(key)!r} != {value!r}")
    return found


def main() -> int:
    CASES.mkdir(exist_ok=True)
    failures = 0
    names = set()
    for scenario in SCENARIOS:
        request = request_of(scenario)
        response, stored, recordings = replay(request)
        if found := problems(scenario, response, stored or recordings):
            failures += 1
            print(f"{scenario.name}: " + "; ".join(found), file=sys.stderr)
            continue
        case = {"name": scenario.name, "covers": scenario.covers, "request": request, "response": response,
                "events": stored}  # fmt: skip
        if recordings:
            case["recordings"] = recordings
        (CASES / f"{scenario.name}.json").write_text(json.dumps(case, indent=1, ensure_ascii=False) + "\n")
        names.add(f"{scenario.name}.json")
    for stale in CASES.glob("*.json"):
        if stale.name not in names and not failures:
            stale.unlink()
    print(f"{len(names)} cases written, {failures} scenarios failed their expectations")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
