"""docs/protocol.md §5: token sources, precedence, conflicts and format."""

from __future__ import annotations

from typing import Any

import pytest
from capture_core.auth.credentials import request_token
from capture_core.errors import InconsistentApiKeys, InvalidApiKey, MissingApiKey
from capture_core.events.batch import read_batch


def token(
    payload: Any,
    form: str | None = None,
    query: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
) -> str:
    fields = {"api_key": form.encode()} if form else {}
    return request_token(read_batch(payload), fields, query or {}, headers or {})


EVENT = {"event": "e", "distinct_id": "u"}


def test_envelope_token_wins():
    assert token({"api_key": "env", "batch": [{**EVENT, "api_key": "evt"}]}, form="form") == "env"


def test_envelope_token_field():
    assert token({"token": "env", "batch": [EVENT]}) == "env"


@pytest.mark.parametrize("field", ["api_key", "token", "$token"])
def test_event_token_fields(field: str):
    assert token([{**EVENT, field: "evt"}]) == "evt"


def test_event_properties_token():
    assert token([{**EVENT, "properties": {"token": "prop"}}]) == "prop"


def test_events_with_different_tokens_are_inconsistent():
    with pytest.raises(InconsistentApiKeys) as caught:
        token([{**EVENT, "api_key": "a"}, EVENT, {**EVENT, "api_key": "b"}])
    assert caught.value.attr == "[2].api_key"


def test_form_then_query_then_bearer():
    assert token([EVENT], form="form", query={"api_key": "q"}) == "form"
    assert token([EVENT], query={"token": "q"}, headers={"authorization": "Bearer b"}) == "q"
    assert token([EVENT], headers={"authorization": "Bearer b"}) == "b"


def test_surrounding_white_space_is_trimmed():
    assert token([{**EVENT, "api_key": "  phc_x \n"}]) == "phc_x"


def test_no_token_is_missing_api_key():
    with pytest.raises(MissingApiKey):
        token([EVENT])


@pytest.mark.parametrize("bad", ["   ", "x" * 201, "phc_é", "phc\x00", 123])
def test_malformed_tokens_are_invalid(bad: Any):
    with pytest.raises(InvalidApiKey):
        token([{**EVENT, "api_key": bad}])
