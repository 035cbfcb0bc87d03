"""Which token a request is sent with (docs/protocol.md §5, §10, §11): every source and its
precedence, and the key's shape, checked here once.

- v0 capture and recordings (`request_token`): the envelope's `api_key`/`token`, then the events'
  (all alike), then a form field, the query, `Authorization: Bearer`. A key of another shape is 401.
- Capture v1 (`v1_token`): `Authorization: Bearer` only, and never a personal key, as PostHog's v1.
- Remote config, flags and the product APIs (`config_token`): the body's `token`/`api_key`, the
  path, then beside the payload; a malformed one is 400, not 401, since such a request names no
  project at all (PostHog's flags service answers the same).
- Flag definitions (`personal_token`): the Bearer personal key local evaluation sends.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from capture_core.auth.key_items import (
    MAX_KEY_LENGTH,
    MAX_PROJECT_ID,
    PERSONAL_KEY_PREFIX,
    is_well_formed_key,
    project_id_from,
)
from capture_core.errors import InconsistentApiKeys, InvalidApiKey, InvalidPayload, MissingApiKey
from capture_core.events.batch import Batch, event_token


def request_token(
    batch: Batch, form: Mapping[str, bytes], query: Mapping[str, str], headers: Mapping[str, str]
) -> str:
    """The request's token, first found wins: envelope, events, form, query, `Authorization: Bearer`."""
    # The events must agree among themselves even when the envelope's key wins.
    events_token = _events_token(batch)
    candidate = batch.token if batch.token is not None else events_token
    if candidate is None:
        candidate = outside_token(form, query, headers)
    if candidate is None:
        raise MissingApiKey(
            'No API key: send your project API key as "api_key" (or "token") in the body or the query string.'
        )
    return _checked(candidate)


def _events_token(batch: Batch) -> Any:
    found: Any = None
    for index, event in enumerate(batch.events):
        token = event_token(event)
        if token is None:
            continue
        if isinstance(token, str):
            token = token.strip()
        if found is None:
            found = token
        elif token != found:
            raise InconsistentApiKeys(
                "The events of this request carry different API keys: send one project's events per request.",
                attr=batch.attr(index, "api_key"),
            )
    return found


def outside_token(
    form: Mapping[str, bytes], query: Mapping[str, str], headers: Mapping[str, str]
) -> str | None:
    """A token sent beside the payload: form `api_key`/`token`, query `api_key`/`token`, Bearer."""
    return (
        _form_text(form.get("api_key"))
        or _form_text(form.get("token"))
        or query.get("api_key")
        or query.get("token")
        or bearer_token(headers)
    )


def _form_text(value: bytes | None) -> str | None:
    return value.decode("utf-8", errors="replace") if value else None


def bearer_token(headers: Mapping[str, str]) -> str | None:
    """The credentials of `Authorization: Bearer <credentials>`, if that is how the request is sent."""
    scheme, _, credentials = headers.get("authorization", "").strip().partition(" ")
    return credentials.strip() if scheme.lower() == "bearer" and credentials.strip() else None


def _checked(candidate: Any) -> str:
    if not isinstance(candidate, str):
        raise InvalidApiKey("The API key must be a string.")
    token = candidate.strip()
    if not token:
        raise InvalidApiKey("The API key is empty.")
    if len(token) > MAX_KEY_LENGTH:
        raise InvalidApiKey(f"The API key is longer than {MAX_KEY_LENGTH} characters.")
    if not is_well_formed_key(token):
        # Refused before any lookup: no string outside the keys' alphabet can name a table item.
        raise InvalidApiKey("The API key may hold only letters, digits, _ and -.")
    return token


def config_token(
    body_token: Any,
    form: Mapping[str, bytes] | None = None,
    query: Mapping[str, str] | None = None,
    headers: Mapping[str, str] | None = None,
) -> str:
    """The project key of a remote config or flags request: in the body (`token`, `api_key`), the
    path, then beside the payload. A malformed one is 400 here (docs/protocol.md §10), not 401: the request
    cannot name any project."""
    candidate = (
        body_token if body_token is not None else outside_token(form or {}, query or {}, headers or {})
    )
    if candidate is None:
        raise MissingApiKey('No project API key: send it as "token" in the body or the query string.')
    token = candidate.strip() if isinstance(candidate, str) else None
    if not token or not is_well_formed_key(token):
        raise InvalidPayload("The project API key is malformed: keys are made of letters, digits, _ and -.")
    return token


def v1_token(authorization: str) -> str:
    """Capture v1's key, from its `Authorization` value: a Bearer project key, else why not."""
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise InvalidPayload("Authorization must use the Bearer scheme.", tag="invalid_header_value")
    token = token.strip()
    if not is_well_formed_key(token) or token.startswith(PERSONAL_KEY_PREFIX):
        raise InvalidApiKey("The provided API token is not valid.", tag="invalid_api_token")
    return token


def personal_token(headers: Mapping[str, str]) -> str:
    """The personal key a flag definitions request sends as `Authorization: Bearer phx_…`."""
    secret = bearer_token(headers) or ""
    if not secret.startswith(PERSONAL_KEY_PREFIX):
        raise (InvalidApiKey if secret else MissingApiKey)(
            "Flag definitions need a personal API key: send `Authorization: Bearer phx_…`."
        )
    return _checked(secret)


def request_project_id(batch: Batch, query: Mapping[str, str]) -> int | None:
    """The project a personal API key writes to: envelope, events (all alike), then query."""
    if batch.project_id is not None:
        return _project_id(batch.project_id, "project_id")
    found: int | None = None
    for index, event in enumerate(batch.events):
        if event.get("project_id") is None:
            continue
        project_id = _project_id(event["project_id"], batch.attr(index, "project_id"))
        if found is not None and project_id != found:
            raise InvalidPayload(
                "The events of this request name different projects.", attr=batch.attr(index, "project_id")
            )
        found = project_id
    if found is None and query.get("project_id"):
        return _project_id(query["project_id"], "project_id")
    return found


def _project_id(value: Any, attr: str) -> int:
    project_id = (
        None
        if isinstance(value, bool) or not isinstance(value, int | str)
        else project_id_from(str(value).strip())
    )
    if project_id is None:
        raise InvalidPayload(f'"project_id" must be a whole number from 1 to {MAX_PROJECT_ID}.', attr=attr)
    return project_id
