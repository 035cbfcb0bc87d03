"""For any string a client can send, the key store grants a project only to an active project key
or to a personal key scoped to that project (hypothesis over tables and strings)."""

from __future__ import annotations

import hashlib

from capture_core.auth.key_items import personal_key_item, project_item, project_key_item
from capture_core.auth.keys import KeyStore
from capture_core.errors import AuthenticationFailed
from hypothesis import given, settings
from hypothesis import strategies as st
from support.budget import examples
from support.fakes import FakeKeyTable

PROJECTS = (1, 2, 3)
ALPHABET = "abcXYZ019_-#:/ \x00é"


ProjectKeys = dict[str, tuple[int, bool]]  # token -> (project, revoked)
PersonalKeys = dict[str, tuple[set[int] | None, bool]]  # secret -> (scope, revoked)


def secrets(prefix: str) -> st.SearchStrategy[list[str]]:
    return st.lists(st.text("abc019", min_size=1, max_size=4).map(prefix.__add__), max_size=3, unique=True)


@st.composite
def tables(draw: st.DrawFn) -> tuple[FakeKeyTable, ProjectKeys, PersonalKeys]:
    table = FakeKeyTable()
    project_keys: dict[str, tuple[int, bool]] = {}
    personal_keys: dict[str, tuple[set[int] | None, bool]] = {}
    for project_id in PROJECTS:
        tokens = draw(secrets("phc_"))
        for token in tokens:
            revoked = draw(st.booleans())
            item = project_key_item(token, project_id, "p")
            item["revoked"] = {"BOOL": revoked}
            table.items[token] = item
            project_keys[token] = (project_id, revoked)
        live = [token for token in tokens if not project_keys[token][1]]
        record = project_item(project_id, "p", live[-1] if live else None)
        table.items[record["key_id"]["S"]] = record
    for secret in draw(secrets("phx_")):
        scope = draw(st.none() | st.sets(st.sampled_from(PROJECTS), min_size=1))
        revoked = draw(st.booleans())
        item = personal_key_item(secret, "k", scope)
        item["revoked"] = {"BOOL": revoked}
        table.items[item["key_id"]["S"]] = item
        personal_keys[secret] = (scope, revoked)
    return table, project_keys, personal_keys


def candidates(table: FakeKeyTable) -> st.SearchStrategy[str]:
    ids = sorted(table.items)
    near = st.sampled_from(ids).flatmap(
        lambda key_id: st.sampled_from(
            [key_id, key_id + "#", key_id.upper(), key_id.replace("#", "_"), " " + key_id, key_id[:-1]]
        )
    )
    record_ids = st.sampled_from(["project#1", "phx#" + hashlib.sha256(b"x").hexdigest()])
    return near | st.text(ALPHABET, max_size=12) | record_ids


@settings(max_examples=examples(200), deadline=None)
@given(data=st.data(), world=tables())
def test_only_active_project_keys_and_scoped_personal_keys_grant_a_project(
    data: st.DataObject, world: tuple[FakeKeyTable, ProjectKeys, PersonalKeys]
) -> None:
    table, project_keys, personal_keys = world
    store = KeyStore(table, "keys", ttl_seconds=60)
    for _ in range(10):
        token = data.draw(candidates(table))
        project_id = data.draw(st.none() | st.sampled_from((*PROJECTS, 9)))
        try:
            granted = store.project_for(token, project_id)
        except AuthenticationFailed:
            continue
        if token in project_keys:
            owner, revoked = project_keys[token]
            assert not revoked
            assert (granted.project_id, granted.token) == (owner, token)
        else:
            scope, revoked = personal_keys[token]
            assert not revoked
            assert project_id is not None
            assert scope is None or project_id in scope
            record = table.items[f"project#{project_id}"]
            assert granted.project_id == project_id
            assert granted.token == record["token"]["S"]
            assert not project_keys[granted.token][1]
