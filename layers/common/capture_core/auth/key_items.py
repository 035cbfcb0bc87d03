"""The key table's item schema: what `capture-keys` writes and `keys.KeyStore` reads.

One table, keyed by the string `key_id`, holds three kinds of item (`kind`):

- `project`, key_id `project#<id>`: `project_id` N, `name` S, `token` S (the project's newest
  active project key; absent while it has none), the project's settings, `created_at` S.
- `project_key`, key_id the key itself (`phc_…`): `project_id` N, `name` S, a copy of the
  project's settings (so that one read resolves everything a request needs), `revoked` BOOL,
  `created_at` S, `fingerprint` S.
- `personal_key`, key_id `phx#<sha256 hex of the key>`: `name` S, `project_ids` NS or
  `all_projects` BOOL, `revoked` BOOL, `created_at` S, `fingerprint` S.

Keys are made of `KEY_ALPHABET` only, and the ids of the other kinds hold a `#`: a string a client
sends can only ever be read as a project key (see `keys.KeyStore`).
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from capture_core.limits import MAX_ID_LENGTH

PROJECT_KEY_PREFIX = "phc_"
PERSONAL_KEY_PREFIX = "phx_"
PROJECT, PROJECT_KEY, PERSONAL_KEY = "project", "project_key", "personal_key"
MAX_KEY_LENGTH = MAX_ID_LENGTH
# What generated keys are made of (secrets.token_urlsafe), and so all a valid key can hold.
KEY_ALPHABET = re.compile(r"[A-Za-z0-9_-]+")


def is_well_formed_key(token: str) -> bool:
    """Could `token` be a key at all? Anything else is refused before any lookup."""
    return len(token) <= MAX_KEY_LENGTH and KEY_ALPHABET.fullmatch(token) is not None


@dataclass(frozen=True, slots=True)
class ProjectSettings:
    """What a project's remote config reports and capture obeys (SPEC §13)."""

    anonymize_ips: bool = False
    autocapture: bool = True
    heatmaps: bool = False
    capture_performance: bool = False
    exception_autocapture: bool = False
    dead_clicks: bool = False
    session_recording: bool = False
    recording_sample_rate: float = 1.0
    recording_min_duration_ms: int = 0

    @classmethod
    def from_item(cls, item: Mapping[str, Any]) -> ProjectSettings:
        """The settings an item carries; a setting the item lacks (written by an older version)
        takes its default."""
        values: dict[str, Any] = {}
        for field in dataclasses.fields(cls):
            attribute = item.get(field.name)
            if attribute is None:
                continue
            if "BOOL" in attribute:
                values[field.name] = bool(attribute["BOOL"])
            elif "N" in attribute:
                number = float(attribute["N"])
                values[field.name] = int(number) if field.type == "int" else number
        return cls(**values)

    def attributes(self) -> dict[str, Any]:
        """The settings as DynamoDB attribute values."""
        result: dict[str, Any] = {}
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            result[field.name] = {"BOOL": value} if isinstance(value, bool) else {"N": _number(value)}
        return result


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


SETTING_NAMES = tuple(field.name for field in dataclasses.fields(ProjectSettings))


def sha256_hex(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def fingerprint(secret: str) -> str:
    """A short, non-secret name for a key, to list, revoke and rotate it by."""
    return sha256_hex(secret)[:16]


def personal_key_id(secret: str) -> str:
    return f"phx#{sha256_hex(secret)}"


def project_record_id(project_id: int) -> str:
    return f"project#{project_id}"


def _now() -> str:
    # Microseconds, so that "newest" orders keys made within one second too.
    return datetime.now(UTC).isoformat(timespec="microseconds")


def project_item(
    project_id: int, name: str, token: str | None, settings: ProjectSettings | None = None
) -> dict[str, Any]:
    """The DynamoDB item (low-level attribute values) of a project."""
    settings = settings or ProjectSettings()
    item: dict[str, Any] = {
        "key_id": {"S": project_record_id(project_id)},
        "kind": {"S": PROJECT},
        "project_id": {"N": str(project_id)},
        "name": {"S": name},
        **settings.attributes(),
        "created_at": {"S": _now()},
    }
    if token is not None:
        item["token"] = {"S": token}
    return item


def project_key_item(
    token: str, project_id: int, name: str, settings: ProjectSettings | None = None
) -> dict[str, Any]:
    """The DynamoDB item of a new project key."""
    settings = settings or ProjectSettings()
    return {
        "key_id": {"S": token},
        "kind": {"S": PROJECT_KEY},
        "project_id": {"N": str(project_id)},
        "name": {"S": name},
        **settings.attributes(),
        "revoked": {"BOOL": False},
        "created_at": {"S": _now()},
        "fingerprint": {"S": fingerprint(token)},
    }


def personal_key_item(secret: str, name: str, project_ids: Iterable[int] | None) -> dict[str, Any]:
    """The DynamoDB item of a new personal key: its hash and scope, never the key itself."""
    item: dict[str, Any] = {
        "key_id": {"S": personal_key_id(secret)},
        "kind": {"S": PERSONAL_KEY},
        "name": {"S": name},
        "revoked": {"BOOL": False},
        "created_at": {"S": _now()},
        "fingerprint": {"S": fingerprint(secret)},
    }
    scope = sorted(set(project_ids)) if project_ids is not None else None
    if scope:
        item["project_ids"] = {"NS": [str(project_id) for project_id in scope]}
    else:
        item["all_projects"] = {"BOOL": scope is None}
    return item


def flag(item: Mapping[str, Any], name: str) -> bool:
    return bool(item.get(name, {}).get("BOOL", False))


def is_live(item: Mapping[str, Any] | None, kind: str) -> bool:
    """Is `item` an unrevoked item of `kind`?"""
    return item is not None and item.get("kind", {}).get("S") == kind and not flag(item, "revoked")


def scope_of(item: Mapping[str, Any]) -> frozenset[int] | None:
    """The projects a personal key item may write to (None: all of them)."""
    if flag(item, "all_projects"):
        return None
    return frozenset(int(value) for value in item.get("project_ids", {}).get("NS", []))
