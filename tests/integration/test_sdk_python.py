"""posthog-python (PyPI `posthog`), unmodified, against the local stack: every event it sends is
stored exactly once, as sent, and the SDK reports no error."""

from __future__ import annotations

import logging
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
from capture_local import DEMO_PROJECT_ID, LocalStack, Recorder
from posthog import Posthog
from posthog.request import APIError
from support.exchanges import header, path
from support.quotas import KEY_CACHE_TTL_S, quota_project, within_quota

pytestmark = pytest.mark.integration

MODES = {
    "default": {},  # a background thread sends batches of up to 100, JSON, to /batch/
    "gzip": {"gzip": True},
    "sync_mode": {"sync_mode": True},
    # Capture v1 (docs/protocol.md §11), uncompressed and in each Content-Encoding the SDK offers.
    "v1": {"capture_mode": "v1"},
    "v1-gzip": {"capture_mode": "v1", "capture_compression": "gzip"},
    "v1-deflate": {"capture_mode": "v1", "capture_compression": "deflate"},
    "v1-zstd": {"capture_mode": "v1", "capture_compression": "zstd"},
    "v1-sync_mode": {"capture_mode": "v1", "sync_mode": True},
}
ENCODINGS = {"gzip": "gzip", "v1-gzip": "gzip", "v1-deflate": "deflate", "v1-zstd": "zstd"}


class ErrorLog(logging.Handler):
    """Collects what the SDK logs at WARNING and above: in its default mode, that is how it reports
    failures (and capture v1 how it reports dropped or unreadable answers)."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


@pytest.fixture
def sdk_errors() -> Iterator[list[str]]:
    handler = ErrorLog()
    logging.getLogger("posthog").addHandler(handler)
    yield handler.messages
    logging.getLogger("posthog").removeHandler(handler)


def client(stack: LocalStack, token: str, errors: list[str], **options: Any) -> Posthog:
    return Posthog(
        token,
        host=stack.api_url,
        on_error=lambda error, batch: errors.append(f"{error!r} ({len(batch)} events)"),
        max_retries=0,
        **options,
    )


@pytest.mark.parametrize("mode", MODES, ids=list(MODES))
def test_every_event_the_sdk_sends_is_stored_once_as_sent(
    local_stack: LocalStack, wire: Recorder, sdk_errors: list[str], mode: str
):
    user, other = f"py-{uuid.uuid4()}", f"py-{uuid.uuid4()}"
    posthog = client(local_stack, local_stack.token, sdk_errors, **MODES[mode])
    sent: dict[str, tuple[str, str, dict[str, Any]]] = {}
    try:
        sent[posthog.capture("signed up", distinct_id=user, properties={"plan": "free", "seats": 3})] = (
            "signed up", user, {"plan": "free", "seats": 3},
        )  # fmt: skip
        sent[posthog.set(distinct_id=user, properties={"email": "someone@example.com"})] = ("$set", user, {})
        sent[posthog.set_once(distinct_id=user, properties={"first_seen": "today"})] = ("$set_once", user, {})
        sent[posthog.alias(previous_id=other, distinct_id=user)] = ("$create_alias", other, {"alias": user})
        sent[posthog.group_identify("company", f"acme-{mode}", {"name": "Acme"}, distinct_id=user)] = (
            "$groupidentify", user, {"$group_type": "company", "$group_key": f"acme-{mode}"},
        )  # fmt: skip
        posthog.flush()
    finally:
        posthog.shutdown()

    assert sdk_errors == []
    assert None not in sent
    posts = [exchange for exchange in wire.exchanges if exchange.method == "POST"]
    v1 = mode.startswith("v1")
    assert {path(post) for post in posts} == ({"/i/v1/analytics/events"} if v1 else {"/batch/"})
    assert {header(post, "Content-Encoding") for post in posts} == {ENCODINGS.get(mode)}
    assert {post.status for post in posts} == {200}
    stored = [event for event in local_stack.read_events() if event["uuid"] in sent]
    assert Counter(event["uuid"] for event in stored) == Counter(dict.fromkeys(sent, 1))
    for event in stored:
        name, distinct_id, properties = sent[event["uuid"]]
        assert (event["event"], event["distinct_id"]) == (name, distinct_id)
        assert properties.items() <= event["properties"].items()
        assert (event["project_id"], event["token"], event["lib"]) == (
            DEMO_PROJECT_ID, local_stack.token, "posthog-python",
        )  # fmt: skip
    by_name = {event["event"]: event for event in stored}
    assert by_name["$set"]["$set"] == {"email": "someone@example.com"}
    assert by_name["$set_once"]["$set_once"] == {"first_seen": "today"}
    assert by_name["$groupidentify"]["properties"]["$group_set"] == {"name": "Acme"}


def test_the_sdk_reads_the_error_detail(local_stack: LocalStack, sdk_errors: list[str]):
    posthog = client(local_stack, "phc_unknown", sdk_errors, sync_mode=True, debug=True)
    try:
        with pytest.raises(APIError) as raised:
            posthog.capture("x", distinct_id=f"py-{uuid.uuid4()}")
    finally:
        posthog.shutdown()
    assert raised.value.status == 401
    assert "not valid" in raised.value.message


QUOTA = 50
STEPS, PER_STEP = 7, 10


def test_over_its_events_quota_a_project_stores_nothing_more_and_the_sdk_sees_no_error(
    local_stack: LocalStack, wire: Recorder, sdk_errors: list[str]
):
    """A quota of 50 events: posthog-python at its defaults sends 70 in steps of 10, each step once
    the one before was counted; exactly the first 50 are stored, and the SDK reports nothing."""
    token = quota_project(local_stack, events=QUOTA)
    posthog = Posthog(token, host=local_stack.api_url)
    steps: list[list[str]] = []
    try:
        for step in range(STEPS):
            steps.append(
                [
                    posthog.capture("py step", distinct_id="quota", properties={"step": step})
                    for _ in range(PER_STEP)
                ]
            )
            posthog.flush()
            local_stack.settle()
            time.sleep(KEY_CACHE_TTL_S + 0.2)
    finally:
        posthog.shutdown()
    stored = {event["uuid"] for event in local_stack.read_events() if event["token"] == token}
    assert stored == {uuid for step in steps[:5] for uuid in step}
    assert within_quota(wire.exchanges, QUOTA)[0] == stored
    assert sdk_errors == []
    assert all(exchange.status == 200 for exchange in wire.exchanges)
