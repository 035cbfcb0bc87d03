"""docs/protocol.md §5: API key lookups through the per-container cache, and DynamoDB failures."""

from __future__ import annotations

import contextlib

import pytest
from capture_core.auth.key_items import ProjectSettings
from capture_core.auth.keys import KeyStore, Project
from capture_core.errors import AuthUnavailable, InvalidApiKey, ProjectIdRequired
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
    assert store.project_for("phc_good") == Project(3, "phc_good", ProjectSettings(anonymize_ips=True))


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
    assert store.project_for(personal, 4) == Project(4, "phc_other", ProjectSettings())


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


# A client's string can only ever be read as a project key (issue: `project#<id>` as an API key).


@pytest.mark.parametrize("token", ["project#3", "phx#" + "0" * 64, "phc_good#", "phc good", "phc_gööd", ""])
def test_strings_outside_the_key_alphabet_are_refused_before_any_lookup(
    store: KeyStore, table: FakeKeyTable, token: str
):
    with pytest.raises(InvalidApiKey):
        store.project_for(token)
    assert table.get_item_calls == 0


def test_a_project_record_id_is_never_read_as_a_key(store: KeyStore, table: FakeKeyTable, personal: str):
    store.project_for(personal, 4)  # caches the record project#4
    with pytest.raises(InvalidApiKey):
        store.project_for("project#4")


def test_a_refused_record_id_does_not_poison_personal_key_writes(store: KeyStore, personal: str):
    for token in ("project#4", "phx#" + "0" * 64):
        with pytest.raises(InvalidApiKey):
            store.project_for(token)
    assert store.project_for(personal, 4).project_id == 4


def test_each_kind_of_lookup_has_its_own_cache(table: FakeKeyTable, clock: Clock):
    # A project key item whose id is shaped like a record id cannot be written by the admin CLI,
    # but even if it were, a lookup of one kind never answers from another kind's cache.
    store = KeyStore(table, "keys", ttl_seconds=60, max_size=100, timer=clock)
    table.add_project("phc_other", 4)
    table.add_personal_key("phx_scoped", [4])
    assert store.project_for("phx_scoped", 4).token == "phc_other"
    assert ("project", "project#4") in store._fresh
    assert ("project_key", "project#4") not in store._fresh


def test_personal_key_without_project_id_is_asked_for_before_any_lookup(store: KeyStore, table: FakeKeyTable):
    with pytest.raises(ProjectIdRequired):
        store.project_for("phx_not_even_a_real_key", None)
    assert table.get_item_calls == 0


def test_personal_key_writes_to_a_project_without_an_active_key_are_refused(
    store: KeyStore, table: FakeKeyTable, personal: str
):
    del table.items["project#4"]["token"]
    with pytest.raises(InvalidApiKey, match="no active project API key"):
        store.project_for(personal, 4)


def test_a_cache_entry_expiring_between_two_reads_is_a_miss_not_an_error(table: FakeKeyTable):
    # Each call of the timer moves time on by 30 s: an entry written at t=0 is alive when first
    # checked and expired when read again, if the store read it twice.
    ticks = iter(range(0, 10_000, 30))
    store = KeyStore(table, "keys", ttl_seconds=45, max_size=100, timer=lambda: next(ticks))
    for _ in range(20):
        assert store.project_for("phc_good").project_id == 3


def test_settings_are_read_with_the_key(table: FakeKeyTable, store: KeyStore):
    table.items["phc_good"]["autocapture"] = {"BOOL": False}
    table.items["phc_good"]["recording_sample_rate"] = {"N": "0.25"}
    settings = store.project_for("phc_good").settings
    assert (settings.autocapture, settings.recording_sample_rate) == (False, 0.25)
    assert settings.anonymize_ips is True
    assert table.get_item_calls == 1


def test_items_written_before_a_setting_existed_take_its_default(table: FakeKeyTable, store: KeyStore):
    for name in ("autocapture", "heatmaps", "session_recording"):
        del table.items["phc_good"][name]
    settings = store.project_for("phc_good").settings
    assert (settings.autocapture, settings.heatmaps, settings.session_recording) == (True, False, False)
