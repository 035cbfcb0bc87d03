"""posthog-python at its default settings asks /flags (v=4) for every flag lookup: each gets "no
flags", the SDK logs nothing, and a capture that sends flags is stored (docs/protocol.md §10). With a personal
API key it polls `/flags/definitions` for local evaluation: no definitions, and no warning."""

from __future__ import annotations

import logging
import uuid
import warnings
from collections.abc import Iterator

import pytest
from capture_admin.store import KeyAdmin
from capture_local import LocalStack, names
from posthog import Posthog
from support.exchanges import path

pytestmark = pytest.mark.integration


class Log(logging.Handler):
    """What the SDK logs at WARNING and above (its default level shows those)."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(f"{record.levelname} {record.getMessage()}")


@pytest.fixture
def sdk_log() -> Iterator[list[str]]:
    handler = Log()
    logger = logging.getLogger("posthog")
    logger.addHandler(handler)
    yield handler.messages
    logger.removeHandler(handler)


def test_every_flag_lookup_answers_none_without_a_warning(local_stack: LocalStack, sdk_log: list[str]):
    posthog = Posthog(local_stack.token, host=local_stack.api_url)  # default settings
    user = f"py-flags-{uuid.uuid4()}"
    try:
        with warnings.catch_warnings():
            # Its own deprecation notices for the older flag calls are not what this checks.
            warnings.simplefilter("ignore", DeprecationWarning)
            assert posthog.get_feature_flag("new-checkout", user) is None
            # None: the flag does not exist (what PostHog answers for a flag nobody made).
            assert posthog.feature_enabled("new-checkout", user) is None
            flags = posthog.evaluate_flags(user)
            assert posthog.get_all_flags(user) == {}
            sent = posthog.capture("checked out", distinct_id=user, send_feature_flags=True)
        assert flags.is_enabled("new-checkout") is False
        assert flags.get_flag("new-checkout") is None
        evaluated = posthog.capture("paid", distinct_id=user, flags=flags)
        posthog.flush()
    finally:
        posthog.shutdown()

    assert sdk_log == []
    stored = {event["uuid"]: event for event in local_stack.read_events() if event["distinct_id"] == user}
    assert {sent, evaluated} <= set(stored)
    assert stored[sent]["event"] == "checked out"


def test_local_evaluation_with_a_personal_key_loads_no_definitions_without_a_warning(
    local_stack: LocalStack, sdk_log: list[str]
):
    admin = KeyAdmin(local_stack.client("dynamodb"), names.TABLE_NAME)
    personal_key = admin.create_personal_key("local evaluation", [local_stack.project_id])
    user = f"py-local-{uuid.uuid4()}"
    with local_stack.recording() as wire:
        posthog = Posthog(local_stack.token, host=local_stack.api_url, secret_key=personal_key)
        try:
            posthog.load_feature_flags()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DeprecationWarning)
                assert posthog.get_feature_flag("new-checkout", user) is None
                assert posthog.get_all_flags(user) == {}
        finally:
            posthog.shutdown()
    assert sdk_log == []
    polls = [exchange for exchange in wire.exchanges if path(exchange) == "/flags/definitions"]
    assert polls
    assert {exchange.status for exchange in polls} == {200}
    assert {exchange.status for exchange in wire.exchanges} == {200}
