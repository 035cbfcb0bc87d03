"""SPEC §5: API key lookups through the per-container cache, and DynamoDB failures."""

from __future__ import annotations

import pytest
from capture_core.errors import AuthUnavailable, InvalidApiKey
from capture_core.keys import KeyStore, Project
from support.fakes import FakeKeyTable


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def table() -> FakeKeyTable:
    return FakeKeyTable.with_project("phc_good", 3, anonymize_ips=True)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def store(table: FakeKeyTable, clock: Clock) -> KeyStore:
    return KeyStore(table, "keys", ttl_seconds=60, max_size=100, timer=clock)


def test_known_key_resolves_to_its_project(store: KeyStore):
    assert store.project_for("phc_good") == Project(project_id=3, token="phc_good", anonymize_ips=True)


def test_unknown_key_is_invalid(store: KeyStore):
    with pytest.raises(InvalidApiKey):
        store.project_for("phc_unknown")


def test_unknown_token_flood_costs_one_lookup_per_token_per_ttl(
    store: KeyStore, table: FakeKeyTable, clock: Clock
):
    for _ in range(1000):
        with pytest.raises(InvalidApiKey):
            store.project_for("phc_unknown")
    assert table.get_item_calls == 1
    clock.now = 61
    with pytest.raises(InvalidApiKey):
        store.project_for("phc_unknown")
    assert table.get_item_calls == 2


def test_revocation_takes_effect_within_the_ttl(store: KeyStore, table: FakeKeyTable, clock: Clock):
    store.project_for("phc_good")
    table.items["phc_good"]["revoked"] = {"BOOL": True}
    clock.now = 59
    assert store.project_for("phc_good").project_id == 3
    clock.now = 61
    with pytest.raises(InvalidApiKey):
        store.project_for("phc_good")


def test_outage_serves_the_last_known_answer(store: KeyStore, table: FakeKeyTable, clock: Clock):
    store.project_for("phc_good")
    clock.now = 600
    table.failure = "ProvisionedThroughputExceededException"
    assert store.project_for("phc_good").project_id == 3


@pytest.mark.parametrize("code", ["ThrottlingException", "InternalServerError", "ResourceNotFoundException"])
def test_outage_without_a_cached_answer_is_503_never_401(store: KeyStore, table: FakeKeyTable, code: str):
    table.failure = code
    with pytest.raises(AuthUnavailable):
        store.project_for("phc_good")
