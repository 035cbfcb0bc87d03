"""The rule `capture-keys` keeps: a project's record names its newest active project key, so events
sent with a personal key are stored under a key the project still has (hypothesis over command
sequences, against the local stack's DynamoDB, in a table of its own)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from capture_admin.store import KeyAdmin
from capture_core.auth.key_items import fingerprint, project_record_id
from capture_core.auth.keys import KeyStore
from capture_core.errors import InvalidApiKey
from capture_local import LocalStack
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

pytestmark = pytest.mark.integration

TABLE = "key-rule"


@pytest.fixture(scope="module")
def dynamodb(local_stack: LocalStack) -> Iterator[Any]:
    client = local_stack.client("dynamodb")
    client.create_table(
        TableName=TABLE,
        KeySchema=[{"AttributeName": "key_id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "key_id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    yield client
    client.delete_table(TableName=TABLE)


COMMANDS = st.lists(
    st.tuples(st.sampled_from(["create-key", "revoke", "rotate"]), st.integers(min_value=0, max_value=5)),
    max_size=12,
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(commands=COMMANDS)
def test_the_record_names_the_newest_active_key(dynamodb: Any, commands: list[tuple[str, int]]) -> None:
    for page in dynamodb.get_paginator("scan").paginate(TableName=TABLE):
        for item in page.get("Items", []):
            dynamodb.delete_item(TableName=TABLE, Key={"key_id": item["key_id"]})
    admin = KeyAdmin(dynamodb, TABLE)
    created = [admin.create_project(7, "web")]  # every project key, oldest first
    revoked: set[str] = set()
    personal = admin.create_personal_key("ops", [7])
    for command, pick in commands:
        active = [token for token in created if token not in revoked]
        if command == "create-key":
            created.append(admin.create_project_key(7))
        elif active:
            token = active[pick % len(active)]
            # Operators name keys by fingerprint, in any case.
            name = fingerprint(token).upper() if pick % 2 else token
            if command == "revoke":
                admin.revoke(name)
            else:
                created.append(admin.rotate(name))
            revoked.add(token)
        active = [token for token in created if token not in revoked]
        record = dynamodb.get_item(
            TableName=TABLE, Key={"key_id": {"S": project_record_id(7)}}, ConsistentRead=True
        )
        named = record["Item"].get("token", {}).get("S")
        assert named == (active[-1] if active else None)
        store = KeyStore(dynamodb, TABLE, ttl_seconds=0)
        if active:
            assert store.project_for(personal, 7).token == active[-1]
        else:
            with pytest.raises(InvalidApiKey, match="no active project API key"):
                store.project_for(personal, 7)
