"""Key management on the key table: the operations behind `capture-keys`, in the item schema of
`capture_core.key_items` (the functions read what this writes).

The rule every operation keeps: a project's record names its newest active project key as its
`token` (the token events sent with a personal key are stored under), or none while it has no
active key. `create-key`, `revoke` and `rotate` change the keys and the record in one transaction.
"""

from __future__ import annotations

import dataclasses
import secrets
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError
from capture_core.auth.key_items import (
    PERSONAL_KEY,
    PERSONAL_KEY_PREFIX,
    PROJECT,
    PROJECT_KEY,
    PROJECT_KEY_PREFIX,
    ProjectSettings,
    fingerprint,
    flag,
    is_live,
    personal_key_item,
    project_id_of,
    project_item,
    project_key_item,
    project_record_id,
    scope_of,
)
from capture_core.auth.quotas import LANES, QuotaState, month_of
from capture_core.aws_errors import error_code
from capture_core.usage.ledger import Ledger, Usage

FINGERPRINT_LENGTH = 16
# DynamoDB's cap on the items of one transaction.
MAX_TRANSACTION_ITEMS = 100


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


@dataclass(frozen=True)
class ProjectInfo:
    """What `projects` shows of a project: its settings and its keys' fingerprints."""

    project_id: int
    name: str
    settings: ProjectSettings
    token_fingerprint: str | None
    keys: tuple[KeyInfo, ...]


KINDS = (PROJECT, PROJECT_KEY, PERSONAL_KEY)


def _text(item: dict[str, Any], name: str) -> str | None:
    attribute = item.get(name)
    value = attribute.get("S") if isinstance(attribute, dict) else None
    return value if isinstance(value, str) else None


def well_formed(item: dict[str, Any]) -> bool:
    """Is `item` a project or a key whose attributes the admin tools read are there and typed?"""
    kind = _text(item, "kind")
    if kind not in KINDS or _text(item, "key_id") is None or _text(item, "name") is None:
        return False
    if _text(item, "created_at") is None:
        return False
    if kind in {PROJECT, PROJECT_KEY} and project_id_of(item) is None:
        return False
    return kind == PROJECT or _text(item, "fingerprint") is not None


def new_secret(prefix: str) -> str:
    return prefix + secrets.token_urlsafe(32)


def _key_info(item: dict[str, Any]) -> KeyInfo:
    kind = item["kind"]["S"]
    if kind == PROJECT_KEY:
        projects = item["project_id"]["N"]
    else:
        scope = scope_of(item)
        projects = "all" if scope is None else ",".join(str(project_id) for project_id in sorted(scope))
    return KeyInfo(
        fingerprint=item["fingerprint"]["S"],
        kind=kind,
        name=item["name"]["S"],
        projects=projects,
        created_at=item["created_at"]["S"],
        revoked=flag(item, "revoked"),
    )


class KeyAdmin:
    def __init__(self, client: Any, table_name: str, usage_table: str | None = None) -> None:
        self._client = client
        self._table = table_name
        self._usage_table = usage_table
        self.skipped = 0  # malformed projects and keys the last scan passed over

    # Projects

    def create_project(self, project_id: int, name: str, settings: ProjectSettings | None = None) -> str:
        """Create a project and its first project key; returns the key (shown once)."""
        settings = settings or ProjectSettings()
        token = new_secret(PROJECT_KEY_PREFIX)
        record = project_item(project_id, name, token, settings)
        try:
            self._transact(
                [
                    {"Put": {**self._put(record), "ConditionExpression": "attribute_not_exists(key_id)"}},
                    {"Put": self._new(project_key_item(token, project_id, name, settings))},
                ]
            )
        except AdminError as error:
            if "ConditionalCheckFailed" in str(error):
                raise AdminError(f"project {project_id} already exists") from None
            raise
        return token

    def settings(self, project_id: int) -> ProjectSettings:
        return ProjectSettings.from_item(self._project(project_id))

    def update_settings(self, project_id: int, **changes: Any) -> tuple[ProjectSettings, int]:
        """Change some of a project's settings, on its record and every one of its keys at once;
        returns the new settings and how many keys carry them."""
        record = self._project(project_id)
        settings = dataclasses.replace(ProjectSettings.from_item(record), **changes)
        keys = [item for item in self._scan() if self._is_key_of(item, project_id)]
        attributes = settings.attributes()
        update = {
            "UpdateExpression": "SET " + ", ".join(f"#{name} = :{name}" for name in attributes),
            "ExpressionAttributeNames": {f"#{name}": name for name in attributes},
            "ExpressionAttributeValues": {f":{name}": value for name, value in attributes.items()},
        }
        items = [record, *keys]
        # One transaction per 100 items; a project has far fewer keys than that.
        for start in range(0, len(items), MAX_TRANSACTION_ITEMS):
            chunk = items[start : start + MAX_TRANSACTION_ITEMS]
            self._transact([{"Update": {**self._key(item), **update}} for item in chunk])
        return settings, len(keys)

    def projects(self) -> list[ProjectInfo]:
        items = list(self._scan())
        result = []
        for record in items:
            if record["kind"]["S"] != PROJECT:
                continue
            project_id = int(record["project_id"]["N"])
            keys = [_key_info(item) for item in items if self._can_write_to(item, project_id)]
            token = record.get("token", {}).get("S")
            result.append(
                ProjectInfo(
                    project_id=project_id,
                    name=record["name"]["S"],
                    settings=ProjectSettings.from_item(record),
                    token_fingerprint=fingerprint(token) if token else None,
                    keys=tuple(sorted(keys, key=lambda key: (key.kind, key.created_at))),
                )
            )
        return sorted(result, key=lambda project: project.project_id)

    # Quotas

    @property
    def knows_usage(self) -> bool:
        return self._usage_table is not None

    def ledger(self) -> Ledger:
        if self._usage_table is None:
            raise AdminError("say where the usage is: --usage-table NAME (or --stack NAME, or --local)")
        return Ledger(self._client, self._table, self._usage_table)

    def set_quota(self, project_id: int, limits: Mapping[str, int | None]) -> Usage:
        """Set (None: remove) the monthly limits of some lanes, then bring the project's state in line
        with this month's usage at once: over a lowered limit now, or no longer over a raised one."""
        self._project(project_id)
        ledger = self.ledger()
        for lane, limit in limits.items():
            ledger.set_limit(project_id, lane, limit)
        month = month_of(datetime.now(UTC))
        usage = ledger.usage([project_id], month)[project_id]
        for lane in LANES:
            over = usage.is_over(lane)
            if over != (usage.over.get(lane) == month):
                ledger.set_state(project_id, lane, month if over else None)
        return ledger.usage([project_id], month)[project_id]

    def usage(self, month: str | None = None) -> list[Usage]:
        """Every project's usage and limits for `month` (this one by default)."""
        month = month or month_of(datetime.now(UTC))
        ids = [project.project_id for project in self.projects()]
        found = self.ledger().usage(ids, month)
        return [found[project_id] for project_id in ids if project_id in found]

    # Keys

    def create_project_key(self, project_id: int) -> str:
        """Another project key for an existing project, which becomes the project's token."""
        record = self._project(project_id)
        token = new_secret(PROJECT_KEY_PREFIX)
        item = project_key_item(token, project_id, record["name"]["S"], ProjectSettings.from_item(record))
        item.update(QuotaState.from_item(record).attributes())  # a new key is over quota as its project is
        self._transact([{"Put": self._new(item)}, self._name_token(record, token)])
        return token

    def create_personal_key(self, name: str, project_ids: Sequence[int] | None) -> str:
        """A personal key for the given projects (None: all); only its hash is stored."""
        for project_id in project_ids or ():
            self._project(project_id)
        secret = new_secret(PERSONAL_KEY_PREFIX)
        self._client.put_item(**self._new(personal_key_item(secret, name, project_ids)))
        return secret

    def list_keys(self, project_id: int | None = None) -> list[KeyInfo]:
        keys = [
            _key_info(item)
            for item in self._scan()
            if item["kind"]["S"] != PROJECT and (project_id is None or self._can_write_to(item, project_id))
        ]
        return sorted(keys, key=lambda key: (key.kind, key.created_at, key.fingerprint))

    def revoke(self, key: str) -> KeyInfo:
        """Revoke the key with this fingerprint (or this very key); it stops working within the
        functions' cache TTL. A project key that the project's record names is replaced there by
        the newest active key left, if any."""
        item = self._find(key)
        actions = [self._revocation(item)]
        if item["kind"]["S"] == PROJECT_KEY:
            project_id = int(item["project_id"]["N"])
            record = self._project(project_id)
            if record.get("token", {}).get("S") == item["key_id"]["S"]:
                left = self._newest_active_key(project_id, excluding=item["key_id"]["S"])
                actions.append(self._name_token(record, left))
        self._transact(actions)
        return dataclasses.replace(_key_info(item), revoked=True)

    def rotate(self, key: str) -> str:
        """A new key with the same project or scope; the old one is revoked. Returns the new key."""
        item = self._find(key)
        if flag(item, "revoked"):
            raise AdminError(f"key {item['fingerprint']['S']} is revoked already")
        if item["kind"]["S"] == PROJECT_KEY:
            project_id = int(item["project_id"]["N"])
            record = self._project(project_id)
            new = new_secret(PROJECT_KEY_PREFIX)
            new_item = project_key_item(
                new, project_id, record["name"]["S"], ProjectSettings.from_item(record)
            )
            new_item.update(QuotaState.from_item(record).attributes())
            # The new key is the newest, so it becomes the token whichever key was rotated.
            self._transact(
                [{"Put": self._new(new_item)}, self._revocation(item), self._name_token(record, new)]
            )
            return new
        new = new_secret(PERSONAL_KEY_PREFIX)
        self._transact(
            [
                {"Put": self._new(personal_key_item(new, item["name"]["S"], scope_of(item)))},
                self._revocation(item),
            ]
        )
        return new

    # Items and transactions

    def _put(self, item: dict[str, Any]) -> dict[str, Any]:
        return {"TableName": self._table, "Item": item}

    def _new(self, item: dict[str, Any]) -> dict[str, Any]:
        return {**self._put(item), "ConditionExpression": "attribute_not_exists(key_id)"}

    def _key(self, item: dict[str, Any]) -> dict[str, Any]:
        return {"TableName": self._table, "Key": {"key_id": item["key_id"]}}

    def _revocation(self, item: dict[str, Any]) -> dict[str, Any]:
        return {
            "Update": {
                **self._key(item),
                "UpdateExpression": "SET revoked = :true",
                "ExpressionAttributeValues": {":true": {"BOOL": True}},
            }
        }

    def _name_token(self, record: dict[str, Any], token: str | None) -> dict[str, Any]:
        """Set (or, with None, remove) the token the project's record names; only if the record
        still names what it named when read, so two operators cannot interleave."""
        update: dict[str, Any] = {**self._key(record)}
        names = {"#token": "token"}
        values: dict[str, Any] = {}
        if token is None:
            update["UpdateExpression"] = "REMOVE #token"
        else:
            update["UpdateExpression"] = "SET #token = :new"
            values[":new"] = {"S": token}
        current = record.get("token", {}).get("S")
        if current is None:
            update["ConditionExpression"] = "attribute_not_exists(#token)"
        else:
            update["ConditionExpression"] = "#token = :current"
            values[":current"] = {"S": current}
        update["ExpressionAttributeNames"] = names
        update["ExpressionAttributeValues"] = values
        return {"Update": update}

    def _transact(self, actions: list[dict[str, Any]]) -> None:
        try:
            self._client.transact_write_items(TransactItems=actions)
        except ClientError as error:
            if error_code(error) == "TransactionCanceledException":
                reasons = [
                    reason.get("Code", "")
                    for reason in error.response.get("CancellationReasons", [])
                    if reason.get("Code") not in {None, "", "None"}
                ]
                raise AdminError(
                    f"the change was refused ({', '.join(reasons) or 'transaction cancelled'}): "
                    "another change may have happened at the same time; try again"
                ) from error
            raise

    def _newest_active_key(self, project_id: int, *, excluding: str) -> str | None:
        keys = [
            item
            for item in self._scan()
            if self._is_key_of(item, project_id)
            and is_live(item, PROJECT_KEY)
            and item["key_id"]["S"] != excluding
        ]
        if not keys:
            return None
        newest = max(keys, key=lambda item: (item["created_at"]["S"], item["key_id"]["S"]))
        return str(newest["key_id"]["S"])

    @staticmethod
    def _is_key_of(item: dict[str, Any], project_id: int) -> bool:
        return item["kind"]["S"] == PROJECT_KEY and int(item["project_id"]["N"]) == project_id

    @classmethod
    def _can_write_to(cls, item: dict[str, Any], project_id: int) -> bool:
        if item["kind"]["S"] == PROJECT_KEY:
            return cls._is_key_of(item, project_id)
        if item["kind"]["S"] == PROJECT:
            return False
        scope = scope_of(item)
        return scope is None or project_id in scope

    def _project(self, project_id: int) -> dict[str, Any]:
        item = self._client.get_item(
            TableName=self._table, Key={"key_id": {"S": project_record_id(project_id)}}, ConsistentRead=True
        ).get("Item")
        if not item:
            raise AdminError(f"project {project_id} does not exist (create it with create-project)")
        if not well_formed(item) or _text(item, "kind") != PROJECT:
            raise AdminError(f"project {project_id}'s item in the key table is malformed: fix or delete it")
        return dict(item)

    def _find(self, key: str) -> dict[str, Any]:
        typed = key.strip()
        is_key = typed.startswith((PROJECT_KEY_PREFIX, PERSONAL_KEY_PREFIX))
        # Fingerprints are hex: any case is the same fingerprint.
        wanted = fingerprint(typed) if is_key else typed.lower()
        if not is_key and len(wanted) != FINGERPRINT_LENGTH:
            raise AdminError(
                f"{typed!r} is neither a key nor a fingerprint (16 hex digits; see `capture-keys list`)"
            )
        matches = [item for item in self._scan() if item.get("fingerprint", {}).get("S") == wanted]
        if not matches:
            shown = "that key" if is_key else f"fingerprint {typed}"
            raise AdminError(f"no key with {shown} (see `capture-keys list`)")
        return matches[0]

    def _scan(self) -> Iterator[dict[str, Any]]:
        """The table's projects and keys, each well formed; other items (cookieless salts) are
        passed over, and a project or key whose attributes cannot be read is counted in `skipped`
        (an item is data someone may have edited: one must not stop every listing)."""
        # Admin operations only: the table holds a few items per project, so a scan is cheap.
        self.skipped = 0
        for page in self._client.get_paginator("scan").paginate(TableName=self._table, ConsistentRead=True):
            for item in page.get("Items", []):
                if well_formed(item):
                    yield item
                elif _text(item, "kind") in KINDS:
                    self.skipped += 1
