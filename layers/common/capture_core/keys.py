"""API keys: which project a token writes to, looked up in DynamoDB through a per-container cache.

One table, keyed by the string `key_id`, holds three kinds of item (`kind`):

- `project`, key_id `project#<id>`: `project_id` N, `name` S, `token` S (the project's current
  key), `anonymize_ips` BOOL, `created_at` S.
- `project_key`, key_id the token itself (`phc_…`): `project_id` N, `name` S, `anonymize_ips`
  BOOL, `revoked` BOOL, `created_at` S, `fingerprint` S.
- `personal_key`, key_id `phx#<sha256 hex of the key>`: `name` S, `project_ids` NS or
  `all_projects` BOOL, `revoked` BOOL, `created_at` S, `fingerprint` S.

A project key is looked up by its own value: one GetItem, so it carries a copy of the project's
`anonymize_ips`. A personal key is never stored, only its SHA-256; its events are written with the
project's own token, read from the project item.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from cachetools import LRUCache, TTLCache

from capture_core.errors import AuthUnavailable, InvalidApiKey, ProjectIdRequired
from capture_core.observability import logger

PERSONAL_KEY_PREFIX = "phx_"
PROJECT, PROJECT_KEY, PERSONAL_KEY = "project", "project_key", "personal_key"


@dataclass(frozen=True, slots=True)
class Project:
    """What a valid token grants: the project it writes to, and how its events are stored."""

    project_id: int
    token: str
    anonymize_ips: bool = False


@dataclass(frozen=True, slots=True)
class Grant:
    """A personal key's scope: the projects it may write to (`None`: all of them)."""

    project_ids: frozenset[int] | None

    def allows(self, project_id: int) -> bool:
        return self.project_ids is None or project_id in self.project_ids


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
    return datetime.now(UTC).isoformat(timespec="seconds")


def project_item(project_id: int, name: str, token: str, *, anonymize_ips: bool = False) -> dict[str, Any]:
    """The DynamoDB item (low-level attribute values) of a project."""
    return {
        "key_id": {"S": project_record_id(project_id)},
        "kind": {"S": PROJECT},
        "project_id": {"N": str(project_id)},
        "name": {"S": name},
        "token": {"S": token},
        "anonymize_ips": {"BOOL": anonymize_ips},
        "created_at": {"S": _now()},
    }


def project_key_item(
    token: str, project_id: int, name: str, *, anonymize_ips: bool = False
) -> dict[str, Any]:
    """The DynamoDB item of a new project key."""
    return {
        "key_id": {"S": token},
        "kind": {"S": PROJECT_KEY},
        "project_id": {"N": str(project_id)},
        "name": {"S": name},
        "anonymize_ips": {"BOOL": anonymize_ips},
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


def _flag(item: Mapping[str, Any], name: str) -> bool:
    return bool(item.get(name, {}).get("BOOL", False))


def _live(item: Mapping[str, Any] | None, kind: str) -> bool:
    return item is not None and item.get("kind", {}).get("S") == kind and not _flag(item, "revoked")


def _read_project_key(token: str, item: Mapping[str, Any] | None) -> Project | None:
    if not _live(item, PROJECT_KEY):
        return None
    assert item is not None
    return Project(int(item["project_id"]["N"]), token, _flag(item, "anonymize_ips"))


def _read_personal_key(item: Mapping[str, Any] | None) -> Grant | None:
    if not _live(item, PERSONAL_KEY):
        return None
    assert item is not None
    if _flag(item, "all_projects"):
        return Grant(None)
    return Grant(frozenset(int(value) for value in item.get("project_ids", {}).get("NS", [])))


def _read_project(item: Mapping[str, Any] | None) -> Project | None:
    if not _live(item, PROJECT):
        return None
    assert item is not None
    return Project(int(item["project_id"]["N"]), item["token"]["S"], _flag(item, "anonymize_ips"))


def _dynamodb_failure(error: Exception) -> AuthUnavailable:
    """Map a DynamoDB SDK error to the domain: whatever it is, the key is unknown *for now*, not invalid."""
    code = error.response.get("Error", {}).get("Code", "") if isinstance(error, ClientError) else ""
    # A missing table or a missing permission will not heal by retrying: log it loudly, but the
    # client still gets a retryable 503, because rejecting a valid key with 401 would drop its events.
    if code in {"ResourceNotFoundException", "AccessDeniedException", "ValidationException"}:
        logger.error("API key table misconfigured", extra={"error_code": code})
    else:
        logger.warning("API key lookup failed", extra={"error_code": code or type(error).__name__})
    return AuthUnavailable("The API key could not be checked right now; retry later.")


class KeyStore:
    """Resolves tokens to projects. Caches hits and misses, so a flood of unknown tokens costs at
    most one GetItem per distinct token per TTL; keeps the last answer per item to serve it while
    DynamoDB is unavailable."""

    def __init__(
        self,
        client: Any,
        table_name: str,
        *,
        ttl_seconds: float = 60.0,
        max_size: int = 10_000,
        timer: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client = client
        self._table_name = table_name
        self._fresh: TTLCache[str, Any] = TTLCache(max_size, ttl_seconds, timer=timer)
        self._last_known: LRUCache[str, Any] = LRUCache(max_size)
        self._lock = threading.Lock()

    def project_for(self, token: str, project_id: int | None = None) -> Project:
        """The project `token` writes to (`project_id` chooses one for a personal key)."""
        if not token.startswith(PERSONAL_KEY_PREFIX):
            project = self._cached(token, lambda item: _read_project_key(token, item))
            if project is None:
                raise InvalidApiKey("The API key is not valid: it is unknown or has been revoked.")
            return project  # type: ignore[no-any-return]
        grant = self._cached(personal_key_id(token), _read_personal_key)
        if grant is None:
            raise InvalidApiKey("The personal API key is not valid: it is unknown or has been revoked.")
        if project_id is None:
            raise ProjectIdRequired(
                'A personal API key needs a "project_id" (in the body, an event, or the query string).'
            )
        project = (
            self._cached(project_record_id(project_id), _read_project) if grant.allows(project_id) else None
        )
        if project is None:
            raise InvalidApiKey(f"The personal API key may not write to project {project_id}.")
        return project  # type: ignore[no-any-return]

    def _cached(self, key_id: str, read: Callable[[Mapping[str, Any] | None], Any]) -> Any:
        with self._lock:
            if key_id in self._fresh:
                return self._fresh[key_id]
        # Eventually consistent reads are enough: a key created a moment ago may be refused for
        # a second at most, and a revocation already waits for the cache TTL.
        try:
            response = self._client.get_item(TableName=self._table_name, Key={"key_id": {"S": key_id}})
        except (ClientError, BotoCoreError) as error:
            with self._lock:
                if key_id in self._last_known:
                    return self._last_known[key_id]
            raise _dynamodb_failure(error) from error
        value = read(response.get("Item"))
        with self._lock:
            self._fresh[key_id] = value
            self._last_known[key_id] = value
        return value
