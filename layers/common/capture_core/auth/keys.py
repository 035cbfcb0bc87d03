"""API keys: which project a token writes to, looked up in DynamoDB through a per-container cache.

The table's items are described in `key_items`. A client's token is only ever read as a project
key: a personal key is read by the hash of the secret, a project record by a number, and each kind
of lookup has its own cache namespace, so no string a client sends can stand for another kind of
item or poison the answer another kind of lookup gets.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from cachetools import LRUCache, TTLCache

from capture_core.auth.key_items import (
    PERSONAL_KEY,
    PERSONAL_KEY_PREFIX,
    PROJECT,
    PROJECT_KEY,
    ProjectSettings,
    is_live,
    is_well_formed_key,
    personal_key_id,
    project_id_of,
    project_record_id,
    scope_of,
)
from capture_core.auth.quotas import NOT_OVER, QuotaState
from capture_core.aws_errors import error_code
from capture_core.errors import AuthUnavailable, InvalidApiKey, ProjectIdRequired
from capture_core.observability import logger


@dataclass(frozen=True, slots=True)
class Project:
    """What a valid token grants: the project it writes to, the token its events are stored with,
    the project's settings and which of its quotas it is over."""

    project_id: int
    token: str
    settings: ProjectSettings = field(default_factory=ProjectSettings)
    quotas: QuotaState = NOT_OVER

    @property
    def anonymize_ips(self) -> bool:
        return self.settings.anonymize_ips


@dataclass(frozen=True, slots=True)
class Grant:
    """A personal key's scope: the projects it may write to (`None`: all of them)."""

    project_ids: frozenset[int] | None

    def allows(self, project_id: int) -> bool:
        return self.project_ids is None or project_id in self.project_ids


@dataclass(frozen=True, slots=True)
class ProjectRecord:
    """A project as its record names it: its newest active project key, if it has one."""

    project_id: int
    token: str | None
    settings: ProjectSettings
    quotas: QuotaState = NOT_OVER


def _read_project_key(token: str, item: Mapping[str, Any] | None) -> Project | None:
    if item is None or not is_live(item, PROJECT_KEY):
        return None
    project_id = project_id_of(item)
    if project_id is None:
        logger.warning("A key item's project_id is malformed: the key is treated as unknown")
        return None
    return Project(project_id, token, ProjectSettings.from_item(item), QuotaState.from_item(item))


def _read_personal_key(item: Mapping[str, Any] | None) -> Grant | None:
    if item is None or not is_live(item, PERSONAL_KEY):
        return None
    return Grant(scope_of(item))


def _read_project(item: Mapping[str, Any] | None) -> ProjectRecord | None:
    if item is None or not is_live(item, PROJECT):
        return None
    project_id, token = project_id_of(item), item.get("token", {}).get("S")
    if project_id is None or not (token is None or isinstance(token, str)):
        logger.warning("A project item is malformed: the project is treated as unknown")
        return None
    return ProjectRecord(project_id, token, ProjectSettings.from_item(item), QuotaState.from_item(item))


def _dynamodb_failure(error: Exception) -> AuthUnavailable:
    """Map a DynamoDB SDK error to the domain: whatever it is, the key is unknown *for now*, not invalid."""
    code = error_code(error)
    # A missing table or a missing permission will not heal by retrying: log it loudly, but the
    # client still gets a retryable 503, because rejecting a valid key with 401 would drop its events.
    if code in {"ResourceNotFoundException", "AccessDeniedException", "ValidationException"}:
        logger.error("API key table misconfigured", extra={"error_code": code})
    else:
        logger.warning("API key lookup failed", extra={"error_code": code})
    return AuthUnavailable("The API key could not be checked right now; retry later.")


_MISSING = object()


def _guard(token: str) -> None:
    """The store's own guard, whatever its caller checked: a string outside the keys' alphabet is
    never looked up, so it can never name another kind of item."""
    if not is_well_formed_key(token):
        raise InvalidApiKey("The API key is not valid: keys are made of letters, digits, _ and -.")


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
        # Keyed by (kind, key_id): a lookup of one kind never sees another kind's answers.
        self._fresh: TTLCache[tuple[str, str], Any] = TTLCache(max_size, ttl_seconds, timer=timer)
        self._last_known: LRUCache[tuple[str, str], Any] = LRUCache(max_size)
        self._lock = threading.Lock()

    def project_for(self, token: str, project_id: int | None = None) -> Project:
        """The project `token` writes to (`project_id` chooses one for a personal key)."""
        _guard(token)
        if token.startswith(PERSONAL_KEY_PREFIX):
            return self._project_for_personal_key(token, project_id)
        return self._project_key(token)

    def project_key(self, token: str) -> Project:
        """The project of an active project key (never a personal key); else `InvalidApiKey`."""
        _guard(token)
        if token.startswith(PERSONAL_KEY_PREFIX):
            raise InvalidApiKey("The API key is not a project API key.")
        return self._project_key(token)

    def _project_key(self, token: str) -> Project:
        project = self._cached(PROJECT_KEY, token, lambda item: _read_project_key(token, item))
        if project is None:
            raise InvalidApiKey("The API key is not valid: it is unknown or has been revoked.")
        return project  # type: ignore[no-any-return]

    def _project_for_personal_key(self, secret: str, project_id: int | None) -> Project:
        # Asked first, before any lookup: the caller learns what is missing, and garbage keys
        # without a project cost no read.
        if project_id is None:
            raise ProjectIdRequired(
                'A personal API key needs a "project_id" (in the body, an event, or the query string).'
            )
        grant = self._cached(PERSONAL_KEY, personal_key_id(secret), _read_personal_key)
        if grant is None:
            raise InvalidApiKey("The personal API key is not valid: it is unknown or has been revoked.")
        if not grant.allows(project_id):
            raise InvalidApiKey(f"The personal API key may not write to project {project_id}.")
        record = self._cached(PROJECT, project_record_id(project_id), _read_project)
        if record is None:
            raise InvalidApiKey(f"The personal API key may not write to project {project_id}.")
        if record.token is None:
            # Events are stored with one of the project's own keys, never a personal key; a
            # project whose keys are all revoked has none to give them.
            raise InvalidApiKey(
                f"Project {project_id} has no active project API key: "
                "create one with capture-keys create-key."
            )
        return Project(record.project_id, record.token, record.settings, record.quotas)

    def _cached(self, kind: str, key_id: str, read: Callable[[Mapping[str, Any] | None], Any]) -> Any:
        key = (kind, key_id)
        with self._lock:
            # One read: a separate `in` then `[]` could straddle the TTL and raise KeyError.
            value = self._fresh.get(key, _MISSING)
        if value is not _MISSING:
            return value
        # Eventually consistent reads are enough: a key created a moment ago may be refused for
        # a second at most, and a revocation already waits for the cache TTL.
        try:
            response = self._client.get_item(TableName=self._table_name, Key={"key_id": {"S": key_id}})
        except (ClientError, BotoCoreError) as error:
            with self._lock:
                value = self._last_known.get(key, _MISSING)
            if value is not _MISSING:
                return value
            raise _dynamodb_failure(error) from error
        value = read(response.get("Item"))
        with self._lock:
            self._fresh[key] = value
            self._last_known[key] = value
        return value
