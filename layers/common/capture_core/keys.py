"""API keys: which project a token writes to, looked up in DynamoDB through a per-container cache.

Item schema (table key `key_id`, a string):

- project key: ``{key_id: <token>, kind: "project", project_id: N, name: S, created_at: S (ISO 8601),
  revoked: BOOL, anonymize_ips: BOOL}``
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from cachetools import LRUCache, TTLCache

from capture_core.errors import AuthUnavailable, InvalidApiKey
from capture_core.observability import logger

PERSONAL_KEY_PREFIX = "phx_"


@dataclass(frozen=True, slots=True)
class Project:
    """What a valid token grants: the project it writes to, and how its events are stored."""

    project_id: int
    token: str
    anonymize_ips: bool = False


def project_key_item(
    token: str, project_id: int, name: str, *, anonymize_ips: bool = False
) -> dict[str, Any]:
    """The DynamoDB item (low-level attribute values) of a new project key."""
    return {
        "key_id": {"S": token},
        "kind": {"S": "project"},
        "project_id": {"N": str(project_id)},
        "name": {"S": name},
        "created_at": {"S": datetime.now(UTC).isoformat(timespec="seconds")},
        "revoked": {"BOOL": False},
        "anonymize_ips": {"BOOL": anonymize_ips},
    }


def _project_from_item(token: str, item: Mapping[str, Any] | None) -> Project | None:
    if not item or item.get("kind", {}).get("S") != "project" or item.get("revoked", {}).get("BOOL"):
        return None
    return Project(
        project_id=int(item["project_id"]["N"]),
        token=token,
        anonymize_ips=bool(item.get("anonymize_ips", {}).get("BOOL", False)),
    )


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
    most one GetItem per distinct token per TTL; keeps the last answer per token to serve it while
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
        self._fresh: TTLCache[str, Project | None] = TTLCache(max_size, ttl_seconds, timer=timer)
        self._last_known: LRUCache[str, Project | None] = LRUCache(max_size)
        self._lock = threading.Lock()

    def project_for(self, token: str) -> Project:
        """The project `token` writes to; `InvalidApiKey` when unknown or revoked."""
        if token.startswith(PERSONAL_KEY_PREFIX):
            raise InvalidApiKey("Personal API keys (phx_) are not accepted by this deployment.")
        project = self._lookup(token)
        if project is None:
            raise InvalidApiKey("The API key is not valid: it is unknown or has been revoked.")
        return project

    def _lookup(self, token: str) -> Project | None:
        with self._lock:
            if token in self._fresh:
                return self._fresh[token]
        # Eventually consistent reads are enough: a key created a moment ago may be refused for
        # a second at most, and a revocation already waits for the cache TTL.
        try:
            response = self._client.get_item(
                TableName=self._table_name,
                Key={"key_id": {"S": token}},
                ProjectionExpression="kind, project_id, revoked, anonymize_ips",
            )
        except (ClientError, BotoCoreError) as error:
            with self._lock:
                if token in self._last_known:
                    return self._last_known[token]
            raise _dynamodb_failure(error) from error
        project = _project_from_item(token, response.get("Item"))
        with self._lock:
            self._fresh[token] = project
            self._last_known[token] = project
        return project
