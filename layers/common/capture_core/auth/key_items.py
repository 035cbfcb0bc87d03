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

import hashlib
import re
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from capture_core.auth.project_settings import SETTING_NAMES, ProjectSettings
from capture_core.limits import MAX_ID_LENGTH

__all__ = ["SETTING_NAMES", "ProjectSettings"]  # where the admin tools and tests find them

PROJECT_KEY_PREFIX = "phc_"
PERSONAL_KEY_PREFIX = "phx_"
PROJECT, PROJECT_KEY, PERSONAL_KEY = "project", "project_key", "personal_key"
MAX_KEY_LENGTH = MAX_ID_LENGTH
# What generated keys are made of (secrets.token_urlsafe), and so all a valid key can hold.
KEY_ALPHABET = re.compile(r"[A-Za-z0-9_-]+")


def is_well_formed_key(token: str) -> bool:
    """Could `token` be a key at all? Anything else is refused before any lookup."""
    return len(token) <= MAX_KEY_LENGTH and KEY_ALPHABET.fullmatch(token) is not None


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


# Project ids are integers from 1 to 2^53 - 1, so that every reader (JavaScript, Athena's
# bigint, DuckDB) holds them exactly.
MAX_PROJECT_ID = 2**53 - 1
_NOT_REVOKED = {"BOOL": False}


def flag(item: Mapping[str, Any], name: str) -> bool:
    """Is attribute `name` the boolean true? (Anything else, absent or malformed: no.)"""
    return item.get(name) == {"BOOL": True}


def is_live(item: Mapping[str, Any] | None, kind: str) -> bool:
    """Is `item` an unrevoked item of `kind`? A `revoked` that is not a boolean counts as revoked:
    an item is data someone may have edited, and a key that cannot be read is no key."""
    return (
        isinstance(item, Mapping)
        and item.get("kind") == {"S": kind}
        and item.get("revoked", _NOT_REVOKED) == _NOT_REVOKED
    )


def project_id_of(item: Mapping[str, Any]) -> int | None:
    """The item's `project_id` when it is one (a whole number from 1 to 2^53 - 1), else None."""
    return project_id_from(
        item.get("project_id", {}).get("N") if isinstance(item.get("project_id"), Mapping) else None
    )


def project_id_from(text: Any) -> int | None:
    if not (isinstance(text, str) and text.isascii() and text.isdigit() and len(text) <= 16):
        return None
    number = int(text)
    return number if 1 <= number <= MAX_PROJECT_ID else None


def scope_of(item: Mapping[str, Any]) -> frozenset[int] | None:
    """The projects a personal key item may write to (None: all of them); an entry that is no
    project id grants nothing."""
    if flag(item, "all_projects"):
        return None
    listed = item.get("project_ids", {})
    values = listed.get("NS", []) if isinstance(listed, Mapping) else []
    return frozenset(
        project_id
        for project_id in map(project_id_from, values if isinstance(values, list) else [])
        if project_id
    )
