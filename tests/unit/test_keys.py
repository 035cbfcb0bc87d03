"""SPEC §5: API key lookups through the per-container cache, and DynamoDB failures."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from capture_core.errors import AuthUnavailable, InvalidApiKey
from capture_core.keys import KeyStore, Project, project_key_item


class FakeTable:
    """A DynamoDB client with one table, counting GetItem calls; `failure` makes every call fail."""

    def __init__(self, *items: dict[str, Any]) -> None:
        self.items = {item["key_id"]["S"]: item for item in items}
        self.get_item_calls = 0
        self.failure: str | None = None

    def get_item(self, TableName: str, Key: dict[str, Any], **_: Any) -> dict[str, Any]:  # noqa: N803
        self.get_item_calls += 1
        if self.failure:
            raise ClientError({"Error": {"Code": self.failure, "Message": "x"}}, "GetItem")
        item = self.items.get(Key["key_id"]["S"])
        return {"Item": item} if item else {}


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def table() -> FakeTable:
    return FakeTable(project_key_item("phc_good", 3, "Web", anonymize_ips=True))


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def store(table: FakeTable, clock: Clock) -> KeyStore:
    return KeyStore(table, "keys", ttl_seconds=60, max_size=100, timer=clock)


def test_known_key_resolves_to_its_project(store: KeyStore):
    assert store.project_for("phc_good") == Project(project_id=3, token="phc_good", anonymize_ips=True)


def test_unknown_key_is_invalid(store: KeyStore):
    with pytest.raises(InvalidApiKey):
        store.project_for("phc_unknown")


def test_unknown_token_flood_costs_one_lookup_per_token_per_ttl(store: KeyStore, table: FakeTable, clock: Clock):
    for _ in range(1000):
        with pytest.raises(InvalidApiKey):
            store.project_for("phc_unknown")
    assert table.get_item_calls == 1
    clock.now = 61
    with pytest.raises(InvalidApiKey):
        store.project_for("phc_unknown")
    assert table.get_item_calls == 2


def test_revocation_takes_effect_within_the_ttl(store: KeyStore, table: FakeTable, clock: Clock):
    store.project_for("phc_good")
    table.items["phc_good"]["revoked"] = {"BOOL": True}
    clock.now = 59
    assert store.project_for("phc_good").project_id == 3
    clock.now = 61
    with pytest.raises(InvalidApiKey):
        store.project_for("phc_good")


def test_outage_serves_the_last_known_answer(store: KeyStore, table: FakeTable, clock: Clock):
    store.project_for("phc_good")
    clock.now = 600
    table.failure = "ProvisionedThroughputExceededException"
    assert store.project_for("phc_good").project_id == 3


@pytest.mark.parametrize("code", ["ThrottlingException", "InternalServerError", "ResourceNotFoundException"])
def test_outage_without_a_cached_answer_is_503_never_401(store: KeyStore, table: FakeTable, code: str):
    table.failure = code
    with pytest.raises(AuthUnavailable):
        store.project_for("phc_good")
