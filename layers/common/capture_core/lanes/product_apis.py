"""What the SDKs ask of PostHog's product APIs (docs/protocol.md §10), answered as PostHog answers a project
that has none of them: this API stores events and evaluates no flags, runs no surveys, tours or
experiments, so each answer is the truthful empty one, never a 404 an SDK would log.

- `GET /flags/definitions?token=` (and `/api/feature_flag/local_evaluation`): what posthog-python
  and posthog-node poll every 30 s with a personal API key, for local evaluation. Only a personal
  key scoped to the token's project reads it (PostHog's rule: definitions are not public).
- `GET /api/projects/@current/feature_flags/<key>/remote_config`: a flag's payload, which the
  server SDKs ask by name; there is no flag of any name.
- `GET /api/surveys/?token=` and its siblings: what posthog-js asks when a page calls those
  products' APIs (or its config enables them).
"""

from __future__ import annotations

from collections.abc import Mapping

from aws_lambda_powertools.event_handler import Response

from capture_core.api import responses
from capture_core.api.request import current_request
from capture_core.api.resolver import CaptureResolver, Doc, add_route
from capture_core.api.routes import FLAG_DEFINITIONS_PATHS, FLAG_REMOTE_CONFIG_PATH, PRODUCT_LISTS
from capture_core.auth.credentials import config_token, personal_token
from capture_core.auth.keys import KeyStore
from capture_core.errors import NotFound
from capture_core.lanes import shared
from capture_core.settings import Settings

NO_DEFINITIONS: dict[str, object] = {"flags": [], "group_type_mapping": {}, "cohorts": {}}
# Definitions change when flags do (never, here); the SDKs poll every 30 s regardless.
NO_STORE = "private, no-store"


class ProductApis:
    def __init__(self, keys: KeyStore) -> None:
        self._keys = keys

    def definitions(self, query_token: str | None, headers: Mapping[str, str]) -> dict[str, object]:
        """No flag definitions, for a personal key scoped to the token's project; else 401."""
        project = self._keys.project_key(config_token(query_token))
        self._keys.project_for(personal_token(headers), project.project_id)  # 401 unless scoped to it
        return NO_DEFINITIONS

    def product_list(self, name: str, query_token: str | None) -> dict[str, object]:
        """The product's empty list, for an active project key; else 401 (400 when malformed)."""
        self._keys.project_key(config_token(query_token))
        return {name: []}


def add_routes(app: CaptureResolver, lane: ProductApis, settings: Settings) -> None:
    """Serve the flag definitions, a flag's remote config and the product lists."""

    def flag_definitions() -> Response[str]:
        request = current_request(app, settings.max_request_bytes)
        answer = lane.definitions(request.query.get("token"), request.headers)
        return responses.document(answer, request.headers, cache_control=NO_STORE)

    def flag_remote_config(key: str) -> Response[str]:
        raise NotFound(f"There is no feature flag {key[:100]!r}: this API evaluates no feature flags.")

    def product_list() -> Response[str]:
        request = current_request(app, settings.max_request_bytes)
        name = PRODUCT_LISTS[request.path.rstrip("/")]
        return responses.document(
            lane.product_list(name, request.query.get("token")), request.headers, cache_control=NO_STORE
        )

    for path in FLAG_DEFINITIONS_PATHS:
        add_route(
            app,
            path,
            "GET",
            flag_definitions,
            Doc("Feature flag definitions (none)", "DEFINITIONS_RESPONSES"),
        )
    add_route(
        app,
        FLAG_REMOTE_CONFIG_PATH,
        "GET",
        flag_remote_config,
        Doc("A flag's payload (none)", "FLAG_PAYLOAD_RESPONSES"),
    )
    for path in PRODUCT_LISTS:
        add_route(app, path, "GET", product_list, Doc("A product's list (empty)", "PRODUCT_LIST_RESPONSES"))
        shared.add_preflight(app, path)
