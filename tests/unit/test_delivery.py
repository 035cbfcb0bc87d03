"""A 200 means every event is stored, in Firehose or by the direct path to S3: delivery under
partial failures, throttling, outages and slow calls of both, injected at the boto level
(docs/protocol.md §7, §9)."""

from __future__ import annotations

import json
import random
from collections import Counter
from collections.abc import Callable

import pytest
from capture_core.settings import Settings
from capture_core.sink import direct
from capture_core.sink.delivery import Delivery
from capture_core.sink.firehose import CALL_TIMEOUTS as FIREHOSE_TIMEOUTS
from capture_core.sink.firehose import FirehoseStream
from capture_core.sink.timing import Backoff, Pacing, TimeBoundClients
from capture_local.rest_event import build_rest_event
from support.app import DEMO_TOKEN, CaptureApp, metric_totals, v1_headers
from support.firehose import FaultyFirehose, FaultyS3, VirtualClock

pytestmark = pytest.mark.usefixtures("fresh_metrics")
totals = metric_totals


def delivery(
    firehose: FaultyFirehose,
    s3: FaultyS3,
    clock: VirtualClock,
    jitter: Callable[[float], float] | None = None,
    *,
    budget_seconds: float = 3.0,
    direct_budget_seconds: float = 3.0,
    max_record_bytes: int = 1_024_000,
) -> Delivery:
    """The sink as on Lambda, on a virtual clock; backoff waits drawn from a seeded generator
    unless given."""
    rng = random.Random(0)
    backoff = Backoff(jitter=jitter or (lambda cap: rng.uniform(0, cap)))

    def pacing(clients: TimeBoundClients, budget: float) -> Pacing:
        return Pacing(clients, budget, clock=clock, sleep=clock.sleep, backoff=backoff)

    return Delivery(
        FirehoseStream(
            pacing(TimeBoundClients(firehose.client, FIREHOSE_TIMEOUTS), budget_seconds), "events"
        ),
        direct.DirectPath(
            pacing(TimeBoundClients(s3.client, direct.CALL_TIMEOUTS), direct_budget_seconds),
            "bucket",
            Settings().events_prefix,
            "events",
        ),
        max_record_bytes=max_record_bytes,
    )


def app_with(
    firehose: FaultyFirehose,
    clock: VirtualClock,
    s3: FaultyS3 | None = None,
    jitter: Callable[[float], float] | None = None,
    max_record_bytes: int = 1_024_000,
    **settings: float,
) -> CaptureApp:
    config = Settings(**settings)
    sink = delivery(
        firehose,
        s3 or FaultyS3(clock=clock),
        clock,
        jitter,
        budget_seconds=config.firehose_budget_seconds,
        direct_budget_seconds=config.direct_path_budget_seconds,
        max_record_bytes=max_record_bytes,
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


def uuids_in(body: str) -> list[str]:
    return [event["uuid"] for event in json.loads(body)["batch"]]


def test_partial_failures_are_resent_until_firehose_has_them_all():
    clock = VirtualClock()
    firehose, s3 = FaultyFirehose(record_failure_rate=0.3, clock=clock), FaultyS3(clock=clock)
    app = app_with(firehose, clock, s3, max_record_bytes=2_000)
    answer = app.request("POST", "/batch/", batch(0, 500))
    assert answer.status == 200
    assert sorted(uuids_of(firehose.stored_lines())) == sorted(uuids_in(batch(0, 500)))
    assert firehose.calls > 1
    assert s3.calls == []  # Firehose recovered within its budget: no object written


@pytest.mark.parametrize(
    "error", ["ThrottlingException", "ServiceUnavailableException", "InternalFailure", "ReadTimeout"]
)
def test_whole_call_errors_are_retried(error: str):
    clock = VirtualClock()
    firehose = FaultyFirehose(call_error_rate=0.5, call_error=error, seed=3, clock=clock)
    answer = app_with(firehose, clock).request("POST", "/batch/", batch(0, 10))
    assert answer.status == 200
    assert len(firehose.stored_lines()) == 10


@pytest.mark.parametrize(
    ("error", "reason"),
    [("ServiceUnavailableException", "Throttled"), ("InternalFailure", "Failed"), ("ReadTimeout", "Failed")],
)
def test_when_firehose_takes_nothing_the_events_are_stored_in_s3_and_answered_200(error: str, reason: str):
    clock = VirtualClock()
    firehose = FaultyFirehose(call_error_rate=1.0, call_error=error, clock=clock)
    s3 = FaultyS3(clock=clock)
    started = clock()
    answer = app_with(firehose, clock, s3, firehose_budget_seconds=3).request("POST", "/batch/", batch(0, 40))
    assert answer.status == 200
    assert sorted(uuids_of(s3.stored_lines())) == sorted(uuids_in(batch(0, 40)))
    assert firehose.stored_lines() == []
    assert clock() - started <= 3 + direct.RESERVE_SECONDS
    (key,) = s3.objects
    assert key.startswith("events/year=")
    assert "/direct-events-" in key
    assert key.endswith(".gz")
    published = totals()
    assert published[f"DirectPath{reason}Events"] == 40
    assert published[f"DirectPath{reason}Bytes"] == sum(map(len, s3.stored_lines())) + 40
    assert published["DirectPathObjects"] == 1
    assert "DirectPathOversizeEvents" not in published


def test_only_what_firehose_did_not_take_goes_to_s3():
    clock = VirtualClock()
    firehose = FaultyFirehose(seed=2, record_failure_rate=0.5, clock=clock)
    s3 = FaultyS3(clock=clock)
    app = app_with(firehose, clock, s3, max_record_bytes=600, firehose_budget_seconds=0.5)
    answer = app.request("POST", "/batch/", batch(0, 200))
    assert answer.status == 200
    in_firehose, in_s3 = Counter(uuids_of(firehose.stored_lines())), Counter(uuids_of(s3.stored_lines()))
    assert in_firehose
    assert in_s3
    assert in_firehose + in_s3 == Counter(uuids_in(batch(0, 200)))  # each exactly once


def test_firehose_and_s3_both_down_is_503_with_retry_after_and_nothing_stored():
    clock = VirtualClock()
    firehose = FaultyFirehose(call_error_rate=1.0, call_error="ServiceUnavailableException", clock=clock)
    s3 = FaultyS3(error_rate=1.0, error="ServiceUnavailable", clock=clock)
    started = clock()
    answer = app_with(firehose, clock, s3).request("POST", "/batch/", batch(0, 3))
    assert (answer.status, answer.json()["code"]) == (503, "sink_unavailable")
    assert int(answer.headers["Retry-After"]) > 0
    assert firehose.stored_lines() == []
    assert s3.objects == {}
    assert len(set(s3.calls)) == 1  # every try wrote the same key: a late success is never doubled
    assert len(s3.calls) > 1
    # The answer comes within both budgets, before the SDKs' own timeouts (10 s for posthog-js).
    settings = Settings()
    assert clock() - started <= settings.firehose_budget_seconds + settings.direct_path_budget_seconds
    assert totals()["DirectPathErrors"] == 1


@pytest.mark.parametrize("error", ["AccessDenied", "NoSuchBucket"])
def test_an_s3_error_no_retry_heals_is_not_retried(error: str):
    clock = VirtualClock()
    firehose = FaultyFirehose(call_error_rate=1.0, clock=clock)
    s3 = FaultyS3(error_rate=1.0, error=error, clock=clock)
    answer = app_with(firehose, clock, s3).request("POST", "/batch/", batch(0, 3))
    assert (answer.status, len(s3.calls)) == (503, 1)


def test_slow_firehose_calls_end_in_the_direct_path_within_the_budget():
    clock = VirtualClock()
    firehose = FaultyFirehose(record_failure_rate=1.0, call_seconds=3.0, clock=clock)
    s3 = FaultyS3(clock=clock)
    started = clock()
    app = app_with(firehose, clock, s3, firehose_budget_seconds=3)
    answer = app.request("POST", "/batch/", batch(0, 3))
    assert answer.status == 200
    assert firehose.calls == 1  # one 3 s call used the budget: no resend
    assert len(s3.stored_lines()) == 3
    assert clock() - started <= 3 + Settings().direct_path_budget_seconds


def test_a_large_request_to_a_healthy_but_slow_firehose_is_not_cut_off_by_the_budget():
    """The budget bounds resends: the first round of calls, twelve of 4 MiB for the largest
    request, may take longer than it, as long as each call ends in the request's time."""
    clock = VirtualClock()
    firehose = FaultyFirehose(call_seconds=0.5, clock=clock)
    s3 = FaultyS3(clock=clock)
    app = app_with(firehose, clock, s3, max_record_bytes=600, firehose_budget_seconds=1)
    started = clock()
    answer = app.request("POST", "/batch/", batch(0, 2_000))  # a record each: 4 calls of 500
    assert answer.status == 200
    assert firehose.calls == 4
    assert clock() - started >= 2  # twice the budget, spent on calls that all succeeded
    assert len(firehose.stored_lines()) == 2_000
    assert s3.calls == []


def test_near_the_lambdas_end_firehose_still_goes_first():
    clock = VirtualClock()
    firehose, s3 = FaultyFirehose(clock=clock), FaultyS3(clock=clock)
    app = app_with(firehose, clock, s3, sink_time_margin_seconds=0)
    event = build_rest_event("POST", "/batch/", None, {}, "", batch(0, 1))
    answer = app.invoke(event, timeout_s=0.9)  # too little to keep a write to S3 in reserve
    assert (answer.status, firehose.calls, s3.calls) == (200, 1, [])


def test_the_budget_stays_inside_the_lambdas_remaining_time():
    clock = VirtualClock()
    firehose = FaultyFirehose(call_error_rate=1.0, clock=clock)
    s3 = FaultyS3(error_rate=1.0, error="SlowDown", clock=clock)
    app = app_with(
        firehose,
        clock,
        s3,
        firehose_budget_seconds=60,
        direct_path_budget_seconds=60,
        sink_time_margin_seconds=1,
    )
    started = clock()
    event = build_rest_event("POST", "/batch/", None, {}, "", batch(0, 1))
    answer = app.invoke(event, timeout_s=10.0)
    assert answer.status == 503
    assert clock() - started <= 10.0 - 1
    # Firehose's time ended early enough for S3 to be tried too.
    assert s3.calls


@pytest.mark.parametrize("error", ["ResourceNotFoundException", "AccessDeniedException"])
def test_firehose_errors_no_retry_heals_go_to_s3_at_once(error: str):
    clock = VirtualClock()
    firehose = FaultyFirehose(call_error_rate=1.0, call_error=error, clock=clock)
    s3 = FaultyS3(clock=clock)
    answer = app_with(firehose, clock, s3).request("POST", "/batch/", batch(0, 1))
    assert (answer.status, firehose.calls, len(s3.objects)) == (200, 1, 1)
    assert totals()["FirehoseNonRetryableErrors"] == 1


def test_after_firehose_left_records_behind_the_next_requests_do_not_wait_for_it():
    """While Firehose is in trouble, a request makes one round of calls and goes on to S3, so
    requests do not each spend the whole budget (which would multiply the concurrency)."""
    clock = VirtualClock()
    firehose = FaultyFirehose(call_error_rate=1.0, call_error="ServiceUnavailableException", clock=clock)
    s3 = FaultyS3(clock=clock)
    app = app_with(firehose, clock, s3, firehose_budget_seconds=3)
    assert app.request("POST", "/batch/", batch(0, 1)).status == 200
    first_calls = firehose.calls
    assert first_calls > 1  # the first request resent within its budget
    started = clock()
    assert app.request("POST", "/batch/", batch(1, 1)).status == 200
    assert firehose.calls == first_calls + 1  # one call, no resend
    assert clock() - started < 0.5
    assert len(s3.objects) == 2


def test_once_firehose_takes_a_request_whole_resends_are_back():
    clock = VirtualClock()
    firehose = FaultyFirehose(call_error_rate=1.0, call_error="ServiceUnavailableException", clock=clock)
    s3 = FaultyS3(clock=clock)
    app = app_with(firehose, clock, s3, max_record_bytes=600, firehose_budget_seconds=3)
    assert app.request("POST", "/batch/", batch(0, 1)).status == 200  # trouble: to S3
    firehose.call_error_rate = 0.0
    assert app.request("POST", "/batch/", batch(1, 1)).status == 200  # taken whole in one round
    firehose.record_failure_rate = 0.5
    calls = firehose.calls
    assert app.request("POST", "/batch/", batch(2, 50)).status == 200
    assert firehose.calls > calls + 1  # failed records resent, within the calm window
    assert len(firehose.stored_lines()) == 51
    assert len(s3.objects) == 1


def test_records_never_sent_for_want_of_time_say_nothing_of_firehose():
    """A request that reaches the sink with almost no time left sends nothing: that is no sign of
    trouble, and the next request resends as usual."""
    clock = VirtualClock()
    firehose = FaultyFirehose(record_failure_rate=0.5, seed=1, clock=clock)
    s3 = FaultyS3(clock=clock)
    app = app_with(firehose, clock, s3, max_record_bytes=600, sink_time_margin_seconds=0)
    answer = app.invoke(build_rest_event("POST", "/batch/", None, {}, "", batch(0, 1)), timeout_s=0.3)
    assert (answer.status, firehose.calls) == (503, 0)
    assert app.request("POST", "/batch/", batch(1, 50)).status == 200
    assert len(firehose.stored_lines()) == 50  # resent until Firehose had them all


def test_loss_accounting_over_ten_thousand_events_with_random_faults():
    """Every event of a 200 is stored once; a request answered 503 left an event unstored."""
    rng = random.Random(7)
    clock = VirtualClock()
    firehose = FaultyFirehose(seed=11, record_failure_rate=0.3, call_error_rate=0.15, clock=clock)
    s3 = FaultyS3(seed=12, error_rate=0.85, error="SlowDown", call_seconds=0.6, clock=clock)
    app = app_with(firehose, clock, s3, max_record_bytes=3_000, firehose_budget_seconds=0.6)
    answers: list[tuple[int, list[str]]] = []
    first = 0
    while first < 10_000:
        count = rng.randint(1, 120)
        body = batch(first, count)
        answers.append((app.request("POST", "/batch/", body).status, uuids_in(body)))
        first += count
    stored = Counter(uuids_of(firehose.stored_lines())) + Counter(uuids_of(s3.stored_lines()))
    statuses = Counter(status for status, _ in answers)
    assert set(statuses) <= {200, 503}
    # The faults were strong enough to matter, and not so strong that nothing got through.
    assert statuses[200] > 0
    assert statuses[503] > 0
    assert len(s3.objects) > 0
    for status, uuids in answers:
        if status == 200:
            assert all(stored[u] == 1 for u in uuids)
        else:
            assert any(stored[u] == 0 for u in uuids)
    assert max(stored.values()) == 1
    assert sum(len(u) for _, u in answers) >= 10_000


def test_no_call_starts_that_could_end_past_the_deadline():
    clock = VirtualClock()
    firehose = FaultyFirehose(call_seconds=2.9, clock=clock)
    clients = TimeBoundClients(firehose.client, FIREHOSE_TIMEOUTS)
    stream = FirehoseStream(Pacing(clients, 60, clock=clock, sleep=clock.sleep), "events")
    started = clock()
    records = [b"x" * 1_000_000] * 24  # six calls of 4 MiB at most
    unacknowledged = stream.send(records, deadline=started + 8)
    assert unacknowledged
    assert clock() - started <= 8


# Capture v1: per-event results under the same faults.


def v1_body(first: int, count: int) -> bytes:
    events = [
        {"event": "e", "distinct_id": f"u{i}", "uuid": f"00000000-0000-4000-8000-{i:012d}",
         "timestamp": "2026-05-01T12:00:00.000Z"}
        for i in range(first, first + count)
    ]  # fmt: skip
    return json.dumps({"created_at": "2026-05-01T12:00:00.000Z", "batch": events}).encode()


V1_HEADERS = v1_headers(sdk="posthog-node/5.70.0", request_id="0193a1b2-0000-7000-8000-00000000bbbb")


def test_v1_answers_ok_only_for_stored_events_and_a_resend_stores_the_rest():
    """Under random faults of Firehose and S3 and a short budget: every `ok` is stored, every
    `retry` is not, and resending the `retry` events, as the SDKs do, stores every event."""
    clock = VirtualClock()
    firehose = FaultyFirehose(seed=5, record_failure_rate=0.4, call_error_rate=0.1, clock=clock)
    s3 = FaultyS3(seed=6, error_rate=0.85, error="SlowDown", call_seconds=0.6, clock=clock)
    app = app_with(firehose, clock, s3, max_record_bytes=1_500, firehose_budget_seconds=0.5)

    def stored() -> Counter[str]:
        return Counter(uuids_of(firehose.stored_lines())) + Counter(uuids_of(s3.stored_lines()))

    body = json.loads(v1_body(0, 300))
    results: dict[str, str] = {}
    attempts = 0
    while body["batch"] and attempts < 50:
        attempts += 1
        before = stored()
        headers = {**V1_HEADERS, "PostHog-Attempt": str(attempts)}
        answer = app.request("POST", "/i/v1/analytics/events", json.dumps(body), headers=headers)
        if answer.status == 503:
            continue  # nothing stored this time: the SDK resends the whole batch
        assert answer.status == 200
        after = stored()
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
    assert all(stored()[key] == 1 for key in results)
    assert len(results) == 300


def test_v1_events_firehose_refused_are_ok_once_in_s3():
    clock = VirtualClock()
    firehose = FaultyFirehose(call_error_rate=1.0, call_error="ServiceUnavailableException", clock=clock)
    s3 = FaultyS3(clock=clock)
    answer = app_with(firehose, clock, s3).request(
        "POST", "/i/v1/analytics/events", v1_body(0, 3), headers=V1_HEADERS
    )
    assert answer.status == 200
    assert {value["result"] for value in answer.json()["results"].values()} == {"ok"}
    assert "Retry-After" not in answer.headers
    assert len(s3.stored_lines()) == 3


def test_v1_is_503_when_nothing_could_be_stored():
    clock = VirtualClock()
    firehose = FaultyFirehose(call_error_rate=1.0, call_error="ServiceUnavailableException", clock=clock)
    s3 = FaultyS3(error_rate=1.0, clock=clock)
    answer = app_with(firehose, clock, s3).request(
        "POST", "/i/v1/analytics/events", v1_body(0, 3), headers=V1_HEADERS
    )
    assert (answer.status, answer.json()["error"]) == (503, "service_unavailable")
    assert int(answer.headers["Retry-After"]) > 0
