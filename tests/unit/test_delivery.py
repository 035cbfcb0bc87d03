"""A 200 means every event is persisted: delivery under partial failures, throttling, outages and
slow calls, injected at the boto level (SPEC §7, §9)."""

from __future__ import annotations

import json
import random
from collections import Counter
from collections.abc import Callable

import pytest
from capture_core.errors import SinkUnavailable
from capture_core.settings import Settings
from capture_core.sink.firehose import FirehoseSink, TimeBoundClients
from capture_local.rest_event import build_rest_event
from support.app import DEMO_TOKEN, CaptureApp
from support.firehose import FaultyFirehose, VirtualClock


def app_with(
    client: FaultyFirehose,
    clock: VirtualClock,
    jitter: Callable[[float], float] | None = None,
    **settings: float,
) -> CaptureApp:
    """The app on a virtual clock; backoff waits drawn from a seeded generator unless given."""
    config = Settings(**settings)
    rng = random.Random(0)
    sink = FirehoseSink(
        TimeBoundClients(client.client),
        "events",
        clock=clock,
        sleep=clock.sleep,
        budget_seconds=config.sink_time_budget_seconds,
        jitter=jitter or (lambda cap: rng.uniform(0, cap)),
    )
    return CaptureApp(sink=sink, monotonic=clock, settings=config)


def batch(first: int, count: int) -> str:
    events = [
        {"event": "e", "distinct_id": f"u{i}", "uuid": f"00000000-0000-4000-8000-{i:012d}"}
        for i in range(first, first + count)
    ]
    return json.dumps({"api_key": DEMO_TOKEN, "batch": events})


def uuids_of(lines: list[bytes]) -> list[str]:
    return [json.loads(line)["uuid"] for line in lines]


def test_partial_failures_are_resent_until_all_are_stored():
    clock = VirtualClock()
    client = FaultyFirehose(record_failure_rate=0.3, clock=clock)
    answer = app_with(client, clock, max_record_bytes=2_000).request("POST", "/batch/", batch(0, 500))
    assert answer.status == 200
    assert sorted(uuids_of(client.stored_lines())) == sorted(
        json.loads(batch(0, 500))["batch"][i]["uuid"] for i in range(500)
    )
    assert client.calls > 1


@pytest.mark.parametrize(
    "error", ["ThrottlingException", "ServiceUnavailableException", "InternalFailure", "ReadTimeout"]
)
def test_whole_call_errors_are_retried(error: str):
    clock = VirtualClock()
    client = FaultyFirehose(call_error_rate=0.5, call_error=error, seed=3, clock=clock)
    answer = app_with(client, clock).request("POST", "/batch/", batch(0, 10))
    assert answer.status == 200
    assert len(client.stored_lines()) == 10


def test_total_outage_is_503_with_retry_after_within_the_budget():
    clock = VirtualClock()
    client = FaultyFirehose(call_error_rate=1.0, call_error="ServiceUnavailableException", clock=clock)
    started = clock()
    answer = app_with(client, clock, sink_time_budget_seconds=4).request("POST", "/batch/", batch(0, 3))
    assert (answer.status, answer.json()["code"]) == (503, "sink_unavailable")
    assert int(answer.headers["Retry-After"]) > 0
    assert clock() - started <= 4
    assert client.calls > 2


@pytest.mark.parametrize(
    ("wait", "calls"),
    [
        # No wait: two full calls (6 s), one through the 1.5 s client, one through the 0.35 s one.
        (lambda cap: 0.0, 4),
        # The longest waits (0.1, 0.2, 0.4 s): after the third call no client fits the 0.2 s left.
        (lambda cap: cap, 3),
    ],
    ids=["no-wait", "longest-wait"],
)
def test_slow_calls_exhaust_the_budget(wait: Callable[[float], float], calls: int):
    clock = VirtualClock()
    client = FaultyFirehose(record_failure_rate=1.0, call_seconds=3.0, clock=clock)
    started = clock()
    app = app_with(client, clock, jitter=wait, sink_time_budget_seconds=8)
    answer = app.request("POST", "/batch/", batch(0, 3))
    assert answer.status == 503
    assert clock() - started <= 8  # a retry starts only if it can end within the budget
    assert client.calls == calls


def test_budget_stays_inside_the_lambdas_remaining_time():
    clock = VirtualClock()
    client = FaultyFirehose(call_error_rate=1.0, clock=clock)
    app = app_with(client, clock, sink_time_budget_seconds=60, sink_time_margin_seconds=1)
    started = clock()
    event = build_rest_event("POST", "/batch/", None, {}, "", batch(0, 1))
    answer = app.invoke(event, timeout_s=10.0)
    assert answer.status == 503
    assert clock() - started <= 10.0 - 1


@pytest.mark.parametrize("error", ["ResourceNotFoundException", "AccessDeniedException"])
def test_non_retryable_errors_are_503_at_once(error: str):
    clock = VirtualClock()
    client = FaultyFirehose(call_error_rate=1.0, call_error=error, clock=clock)
    answer = app_with(client, clock).request("POST", "/batch/", batch(0, 1))
    assert (answer.status, client.calls) == (503, 1)


def test_loss_accounting_over_ten_thousand_events_with_random_faults():
    """Every event of a 200 is stored; no request with an unsent event got 200; nothing is stored twice."""
    rng = random.Random(7)
    clock = VirtualClock()
    client = FaultyFirehose(seed=11, record_failure_rate=0.3, call_error_rate=0.15, clock=clock)
    app = app_with(client, clock, max_record_bytes=3_000, sink_time_budget_seconds=0.6)
    answers: dict[int, tuple[int, list[str]]] = {}
    first = 0
    while first < 10_000:
        count = rng.randint(1, 120)
        body = batch(first, count)
        answers[first] = (
            app.request("POST", "/batch/", body).status,
            [e["uuid"] for e in json.loads(body)["batch"]],
        )
        first += count
    stored = Counter(uuids_of(client.stored_lines()))
    statuses = Counter(status for status, _ in answers.values())
    assert set(statuses) <= {200, 503}
    # The faults were strong enough to matter, and not so strong that nothing got through.
    assert statuses[200] > 0
    assert statuses[503] > 0
    for status, uuids in answers.values():
        if status == 200:
            assert all(stored[u] == 1 for u in uuids)
        else:
            assert any(stored[u] == 0 for u in uuids)
    assert max(stored.values()) == 1
    assert sum(len(u) for _, u in answers.values()) >= 10_000


def test_no_call_starts_that_could_end_past_the_deadline():
    clock = VirtualClock()
    client = FaultyFirehose(call_seconds=2.9, clock=clock)
    sink = FirehoseSink(TimeBoundClients(client.client), "events", clock=clock, sleep=clock.sleep)
    started = clock()
    records = [b"x" * 1_000_000] * 24  # six calls of 4 MiB at most
    with pytest.raises(SinkUnavailable):
        sink.deliver(records, deadline=started + 8)
    assert clock() - started <= 8


# Capture v1: per-event results under the same faults.


def v1_body(first: int, count: int) -> bytes:
    events = [
        {"event": "e", "distinct_id": f"u{i}", "uuid": f"00000000-0000-4000-8000-{i:012d}",
         "timestamp": "2026-05-01T12:00:00.000Z"}
        for i in range(first, first + count)
    ]  # fmt: skip
    return json.dumps({"created_at": "2026-05-01T12:00:00.000Z", "batch": events}).encode()


V1_HEADERS = {
    "Authorization": f"Bearer {DEMO_TOKEN}",
    "Content-Type": "application/json",
    "User-Agent": "posthog-node/5.70.0",
    "PostHog-Sdk-Info": "posthog-node/5.70.0",
    "PostHog-Attempt": "1",
    "PostHog-Request-Id": "0193a1b2-0000-7000-8000-00000000bbbb",
    "PostHog-Request-Timestamp": "2026-05-01T12:00:00.000Z",
}


def test_v1_answers_ok_only_for_acknowledged_events_and_a_resend_stores_the_rest():
    """Under random partial failures and a short budget: every `ok` is stored, every `retry` was
    not acknowledged, and resending the `retry` events, as the SDKs do, stores every event."""
    clock = VirtualClock()
    client = FaultyFirehose(seed=5, record_failure_rate=0.4, call_error_rate=0.1, clock=clock)
    app = app_with(client, clock, max_record_bytes=1_500, sink_time_budget_seconds=0.5)
    body = json.loads(v1_body(0, 300))
    results: dict[str, str] = {}
    attempts = 0
    while body["batch"] and attempts < 50:
        attempts += 1
        before = Counter(uuids_of(client.stored_lines()))
        headers = {**V1_HEADERS, "PostHog-Attempt": str(attempts)}
        answer = app.request("POST", "/i/v1/analytics/events", json.dumps(body), headers=headers)
        if answer.status == 503:
            continue  # nothing stored this time: the SDK resends the whole batch
        assert answer.status == 200
        after = Counter(uuids_of(client.stored_lines()))
        outcome = {key: value["result"] for key, value in answer.json()["results"].items()}
        for key, result in outcome.items():
            assert result in {"ok", "retry"}
            assert (after[key] > before[key]) == (result == "ok")
        if "retry" in outcome.values():
            assert answer.headers["Retry-After"] == "1"
        results.update(outcome)
        body["batch"] = [event for event in body["batch"] if outcome[event["uuid"]] == "retry"]
    assert attempts > 1  # the faults made some events wait for a resend
    assert body["batch"] == []
    stored = Counter(uuids_of(client.stored_lines()))
    assert all(stored[key] >= 1 for key in results)
    assert len(results) == 300


def test_v1_is_503_when_nothing_could_be_stored():
    clock = VirtualClock()
    client = FaultyFirehose(call_error_rate=1.0, call_error="ServiceUnavailableException", clock=clock)
    answer = app_with(client, clock).request(
        "POST", "/i/v1/analytics/events", v1_body(0, 3), headers=V1_HEADERS
    )
    assert (answer.status, answer.json()["error"]) == (503, "service_unavailable")
    assert int(answer.headers["Retry-After"]) > 0
