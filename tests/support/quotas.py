"""Quotas as the SDK tests set them and read them back: a project of its own with a limit, and which
of the events an SDK sent a quota lets through."""

from __future__ import annotations

import itertools
from typing import Any

from capture_admin.store import KeyAdmin
from capture_core.auth.key_items import ProjectSettings
from capture_local import Exchange, LocalStack, names

from support.exchanges import sent_events

_projects = itertools.count(5000)
# The key cache TTL of the tests' local stack (tests/integration/conftest.py): a quota reached is in
# force this long after it was counted.
KEY_CACHE_TTL_S = 1.0


def quota_project(
    stack: LocalStack, *, events: int | None = None, recordings: int | None = None, **settings: Any
) -> str:
    """A new project with these monthly quotas and settings; returns its key."""
    admin = KeyAdmin(stack.client("dynamodb"), names.TABLE_NAME, names.USAGE_TABLE_NAME)
    project_id = next(_projects)
    token = admin.create_project(project_id, "quota", ProjectSettings(**settings))
    admin.set_quota(project_id, {"events": events, "recordings": recordings})
    return token


def within_quota(exchanges: list[Exchange], limit: int) -> tuple[set[str], set[str]]:
    """The uuids of the events a quota of `limit` stores, and of those it drops, when each request
    arrives after the one before it was counted (the SDK tests wait that long between requests): a
    request is stored whole while the project's count before it is under the limit."""
    stored: set[str] = set()
    dropped: set[str] = set()
    count = 0
    by_request: dict[int, list[dict[str, Any]]] = {}
    for exchange, event in sent_events(exchanges):
        by_request.setdefault(id(exchange), []).append(event)
    for events in by_request.values():
        uuids = {event["uuid"] for event in events}
        (stored if count < limit else dropped).update(uuids)
        if count < limit:
            count += len(events)
    return stored, dropped
