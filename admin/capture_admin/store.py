"""Key management on the key table: the operations behind `capture-keys`, in the item schema of
`capture_core.keys` (the functions read what this writes)."""

from __future__ import annotations

import secrets
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError
from capture_core.keys import (
    PROJECT,
    PROJECT_KEY,
    fingerprint,
    personal_key_item,
    project_item,
    project_key_item,
    project_record_id,
)


class AdminError(Exception):
    """Something the operator asked for cannot be done; the message says why."""


@dataclass(frozen=True)
class KeyInfo:
    """What `list` shows of a key: never the key itself."""

    fingerprint: str
    kind: str
    name: str
    projects: str
    created_at: str
    revoked: bool


def new_secret(prefix: str) -> str:
    return prefix + secrets.token_urlsafe(32)


class KeyAdmin:
    def __init__(self, client: Any, table_name: str) -> None:
        self._client = client
        self._table = table_name

    def create_project(self, project_id: int, name: str, *, anonymize_ips: bool = False) -> str:
        """Create a project and its first project key; returns the key (shown once)."""
        token = new_secret("phc_")
        try:
            self._client.put_item(
                TableName=self._table,
                Item=project_item(project_id, name, token, anonymize_ips=anonymize_ips),
                ConditionExpression="attribute_not_exists(key_id)",
            )
        except ClientError as error:
            if error.response["Error"]["Code"] == "ConditionalCheckFailedException":
                raise AdminError(f"project {project_id} already exists") from error
            raise
        self._put_new(project_key_item(token, project_id, name, anonymize_ips=anonymize_ips))
        return token

    def create_project_key(self, project_id: int) -> str:
        """Another project key for an existing project (its name and IP setting are copied)."""
        project = self._project(project_id)
        token = new_secret("phc_")
        self._put_new(
            project_key_item(
                token, project_id, project["name"]["S"], anonymize_ips=project["anonymize_ips"]["BOOL"]
            )
        )
        return token

    def create_personal_key(self, name: str, project_ids: Sequence[int] | None) -> str:
        """A personal key for the given projects (None: all); only its hash is stored."""
        for project_id in project_ids or ():
            self._project(project_id)
        secret = new_secret("phx_")
        self._put_new(personal_key_item(secret, name, project_ids))
        return secret

    def list_keys(self, project_id: int | None = None) -> list[KeyInfo]:
        keys = []
        for item in self._scan():
            kind = item["kind"]["S"]
            if kind == PROJECT:
                continue
            if kind == PROJECT_KEY:
                projects = item["project_id"]["N"]
            elif item.get("all_projects", {}).get("BOOL"):
                projects = "all"
            else:
                projects = ",".join(sorted(item.get("project_ids", {}).get("NS", []), key=int))
            if project_id is not None and projects != "all" and str(project_id) not in projects.split(","):
                continue
            keys.append(
                KeyInfo(
                    fingerprint=item["fingerprint"]["S"],
                    kind=kind,
                    name=item["name"]["S"],
                    projects=projects,
                    created_at=item["created_at"]["S"],
                    revoked=item["revoked"]["BOOL"],
                )
            )
        return sorted(keys, key=lambda key: (key.kind, key.created_at, key.fingerprint))

    def revoke(self, key: str) -> KeyInfo:
        """Revoke the key with this fingerprint (or this very key); it stops working within the
        functions' cache TTL."""
        item = self._find(key)
        self._client.update_item(
            TableName=self._table,
            Key={"key_id": item["key_id"]},
            UpdateExpression="SET revoked = :true",
            ExpressionAttributeValues={":true": {"BOOL": True}},
        )
        return next(info for info in self.list_keys() if info.fingerprint == item["fingerprint"]["S"])

    def rotate(self, key: str) -> str:
        """A new key with the same project or scope; the old one is revoked. Returns the new key."""
        item = self._find(key)
        if item["revoked"]["BOOL"]:
            raise AdminError(f"key {item['fingerprint']['S']} is revoked already")
        if item["kind"]["S"] == PROJECT_KEY:
            project_id = int(item["project_id"]["N"])
            new = self.create_project_key(project_id)
            if self._project(project_id)["token"]["S"] == item["key_id"]["S"]:
                # Events sent with a personal key are stored under the project's current key.
                self._client.update_item(
                    TableName=self._table,
                    Key={"key_id": {"S": project_record_id(project_id)}},
                    UpdateExpression="SET #token = :new",
                    ExpressionAttributeNames={"#token": "token"},
                    ExpressionAttributeValues={":new": {"S": new}},
                )
        else:
            scope = (
                None
                if item.get("all_projects", {}).get("BOOL")
                else [int(n) for n in item["project_ids"]["NS"]]
            )
            new = self.create_personal_key(item["name"]["S"], scope)
        self.revoke(item["fingerprint"]["S"])
        return new

    def set_anonymize_ips(self, project_id: int, enabled: bool) -> int:
        """Turn IP anonymisation on or off for a project and each of its keys; returns keys changed."""
        self._project(project_id)
        changed = 0
        for item in self._scan():
            is_project = item["key_id"]["S"] == project_record_id(project_id)
            is_its_key = item["kind"]["S"] == PROJECT_KEY and int(item["project_id"]["N"]) == project_id
            if is_project or is_its_key:
                self._client.update_item(
                    TableName=self._table,
                    Key={"key_id": item["key_id"]},
                    UpdateExpression="SET anonymize_ips = :value",
                    ExpressionAttributeValues={":value": {"BOOL": enabled}},
                )
                changed += is_its_key
        return changed

    def _put_new(self, item: dict[str, Any]) -> None:
        self._client.put_item(
            TableName=self._table, Item=item, ConditionExpression="attribute_not_exists(key_id)"
        )

    def _project(self, project_id: int) -> dict[str, Any]:
        item = self._client.get_item(
            TableName=self._table, Key={"key_id": {"S": project_record_id(project_id)}}, ConsistentRead=True
        ).get("Item")
        if not item:
            raise AdminError(f"project {project_id} does not exist (create it with create-project)")
        return dict(item)

    def _find(self, key: str) -> dict[str, Any]:
        wanted = key if len(key) == 16 and not key.startswith(("phc_", "phx_")) else fingerprint(key)
        matches = [item for item in self._scan() if item.get("fingerprint", {}).get("S") == wanted]
        if not matches:
            raise AdminError(f"no key with fingerprint {wanted} (see `capture-keys list`)")
        return matches[0]

    def _scan(self) -> Iterator[dict[str, Any]]:
        # Admin operations only: the table holds a few items per project, so a scan is cheap.
        for page in self._client.get_paginator("scan").paginate(TableName=self._table, ConsistentRead=True):
            yield from page.get("Items", [])
