"""SPEC §5: API key lookups through the per-container cache, and DynamoDB failures."""

from __future__ import annotations

import contextlib

import pytest
from capture_core.errors import AuthUnavailable, InvalidApiKey, ProjectIdRequired
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


# Personal API keys (phx_): stored as a hash, scoped to projects, written as the project's own token.


@pytest.fixture
def personal(table: FakeKeyTable) -> str:
    table.add_project("phc_other", 4)
    table.add_personal_key("phx_scoped", [4])
    table.add_personal_key("phx_everywhere", None)
    return "phx_scoped"


def test_personal_key_writes_to_a_project_it_is_scoped_to_with_the_projects_token(
    store: KeyStore, personal: str
):
    assert store.project_for(personal, 4) == Project(project_id=4, token="phc_other", anonymize_ips=False)


def test_personal_key_is_stored_only_as_a_hash(table: FakeKeyTable, personal: str):
    assert all(personal not in str(item) for item in table.items.values())


def test_personal_key_without_project_id_is_project_id_required(store: KeyStore, personal: str):
    with pytest.raises(ProjectIdRequired):
        store.project_for(personal, None)


def test_personal_key_not_scoped_to_the_project_is_invalid(store: KeyStore, personal: str):
    with pytest.raises(InvalidApiKey):
        store.project_for(personal, 3)


def test_personal_key_for_all_projects(store: KeyStore, personal: str):
    assert store.project_for("phx_everywhere", 3).token == "phc_good"


def test_unknown_personal_key_is_invalid(store: KeyStore, personal: str):
    with pytest.raises(InvalidApiKey):
        store.project_for("phx_unknown", 4)


def test_personal_key_for_a_project_that_does_not_exist_is_invalid(store: KeyStore, personal: str):
    with pytest.raises(InvalidApiKey):
        store.project_for("phx_everywhere", 99)


def test_connection_errors_are_503_too(store: KeyStore, table: FakeKeyTable, monkeypatch: pytest.MonkeyPatch):
    from botocore.exceptions import EndpointConnectionError

    def unreachable(**_: object) -> None:
        raise EndpointConnectionError(endpoint_url="https://dynamodb")

    monkeypatch.setattr(table, "get_item", unreachable)
    with pytest.raises(AuthUnavailable):
        store.project_for("phc_good")


def test_the_cache_is_bounded(table: FakeKeyTable, clock: Clock):
    store = KeyStore(table, "keys", ttl_seconds=60, max_size=1, timer=clock)
    for token in ("phc_good", "phc_other", "phc_good"):
        with contextlib.suppress(InvalidApiKey):
            store.project_for(token)
    assert table.get_item_calls == 3  # the first answer was evicted by the second
