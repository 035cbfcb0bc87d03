"""Remote config, feature flags and decide (docs/protocol.md §10): what the SDKs ask besides capture.

posthog-js reads its remote config before it decides how to send (gzip or not) and whether to
autocapture; without one it falls back to uncompressed JSON and leaves autocapture off for new
visitors. This API evaluates no feature flags: every flags answer is the truthful "none", never
an error, so that no SDK logs a warning or falls back.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aws_lambda_powertools.event_handler import Response

from capture_core.api import responses
from capture_core.api.request import HttpRequest, current_request, page_origin, request_headers
from capture_core.api.resolver import CaptureResolver, Doc, add_route
from capture_core.api.routes import DECIDE_PATH, FLAGS_PATH
from capture_core.auth.credentials import config_token
from capture_core.auth.keys import KeyStore, Project
from capture_core.auth.project_settings import ProjectSettings, recording_allowed_from
from capture_core.auth.quotas import RECORDINGS
from capture_core.decoding.payload import decode_payload
from capture_core.errors import InvalidApiKey, MissingApiKey, NotFound
from capture_core.lanes import shared
from capture_core.settings import Settings

# The capture endpoint posthog-js sends to, and its session recordings' (relative to api_host).
ANALYTICS_ENDPOINT = "/i/v0/e/"
RECORDINGS_ENDPOINT = "/s/"
# Flags answers change with every request (requestId), so no cache may keep them.
NO_STORE = "private, no-store"


def remote_config(
    token: str, settings: ProjectSettings, *, recordings: bool, origin: str | None = None
) -> dict[str, Any]:
    """The remote config posthog-js reads, for a project with these settings, asked from a page at
    `origin`. `recordings` says whether this API serves the recordings lane at all."""
    recording: dict[str, Any] | bool = False
    if recordings and settings.session_recording and recording_allowed_from(settings, origin):
        recording = {
            "endpoint": RECORDINGS_ENDPOINT,
            "sampleRate": _rate(settings.recording_sample_rate),
            "minimumDurationMilliseconds": settings.recording_min_duration_ms or None,
            "consoleLogRecordingEnabled": settings.capture_console_log_opt_in,
            "recorderVersion": "v2",
            "linkedFlag": None,
            "networkPayloadCapture": None,
            "urlTriggers": [],
            "urlBlocklist": [],
            "eventTriggers": [],
            "scriptConfig": None,
        }
    return {
        "token": token,
        "supportedCompression": ["gzip", "gzip-js"],
        "hasFeatureFlags": False,
        "autocapture_opt_out": not settings.autocapture,
        "capturePerformance": (
            {
                "network_timing": settings.capture_performance_opt_in,
                "web_vitals": settings.autocapture_web_vitals_opt_in,
                "web_vitals_allowed_metrics": None,
            }
            if settings.capture_performance_opt_in or settings.autocapture_web_vitals_opt_in
            else False
        ),
        "autocaptureExceptions": settings.exception_autocapture,
        "errorTracking": {"autocaptureExceptions": settings.exception_autocapture, "suppressionRules": []},
        "captureDeadClicks": settings.dead_clicks,
        "heatmaps": settings.heatmaps,
        "sessionRecording": recording,
        "surveys": False,
        "conversations": False,
        "productTours": False,
        "logs": {"captureConsoleLogs": False},
        "siteApps": [],
        "elementsChainAsString": True,
        "analytics": {"endpoint": ANALYTICS_ENDPOINT},
        "defaultIdentifiedOnly": True,
    }


def _rate(rate: float) -> str | None:
    # posthog-js reads the sample rate as a decimal string; 1 means every session.
    return None if rate >= 1 else format(rate, "g")


def config_script(token: str, config: Mapping[str, Any]) -> str:
    """config.js: the same config, as a script that hands it to posthog-js."""
    body = responses.script_json({"config": config, "siteApps": []})
    key = responses.script_json(token)
    return (
        "(function() {\n"
        "  window._POSTHOG_REMOTE_CONFIG = window._POSTHOG_REMOTE_CONFIG || {};\n"
        f"  window._POSTHOG_REMOTE_CONFIG[{key}] = {body};\n"
        "})();\n"
    )


def no_flags(
    version: int | None, config: Mapping[str, Any] | None, *, now_ms: int, request_id: str
) -> dict[str, Any]:
    """The answer of `/flags?v=<version>` for a project without flags, as PostHog's flags service
    gives it: v2 and later the `flags` shape; v1 (and a `v` it cannot read) the legacy shape; no
    `v` at all, v2 with the remote config (what posthog-js asks first). `config` is merged in when
    given (`config=true`, or no `v`)."""
    stamp = {"requestId": request_id, "evaluatedAt": now_ms}
    if version is None or version >= 2:
        answer: dict[str, Any] = {"flags": {}, "errorsWhileComputingFlags": False, **stamp}
    else:
        answer = {"featureFlags": {}, "featureFlagPayloads": {}, "errorsWhileComputingFlags": False, **stamp}
    return {**config, **answer} if config else answer


def decide(
    version: int | None, config: Mapping[str, Any] | None, *, now_ms: int, request_id: str
) -> dict[str, Any]:
    """The answer of the legacy `/decide?v=<version>` (no `v`: 1): the remote config and the flags
    in the shape each version had. v1 lists the active flags' keys, v2 maps each active flag to its
    value, v3 adds payloads, v4 is the `flags` shape."""
    if version is not None and version >= 4:
        flags: dict[str, Any] = {"flags": {}, "requestId": request_id, "evaluatedAt": now_ms}
    elif version == 3:
        flags = {"featureFlags": {}, "featureFlagPayloads": {}}
    elif version == 2:
        flags = {"featureFlags": {}}
    else:
        flags = {"featureFlags": []}
    legacy = {"config": {"enable_collect_everything": True}, "toolbarParams": {}, "isAuthenticated": False}
    return {**(config or {}), **flags, "errorsWhileComputingFlags": False, **(legacy if config else {})}


def _version(query: Mapping[str, str]) -> int | None:
    """The `v` asked for: None without one, 1 for one that is no number (as PostHog reads it)."""
    if "v" not in query:
        return None
    text = query["v"].strip()
    return int(text) if text.isascii() and text.isdigit() and len(text) < 4 else 1


class RemoteConfig:
    """Answers for one project, read through the same key cache as capture: a warm container
    makes no DynamoDB read."""

    def __init__(
        self,
        settings: Settings,
        keys: KeyStore,
        *,
        recordings: bool = False,
        clock: Callable[[], float] = time.time,
        request_ids: Callable[[], str] = lambda: str(uuid.uuid4()),
    ) -> None:
        self._settings = settings
        self._keys = keys
        self._recordings = recordings
        self._clock = clock
        self._request_ids = request_ids

    def config(self, token: str, headers: Mapping[str, str]) -> dict[str, Any]:
        """The project's remote config, for the page asking (`headers`); a key that is not an active
        project key is 404."""
        try:
            project = self._keys.project_key(config_token(token))
        except InvalidApiKey as error:
            raise NotFound("There is no project with this API key (unknown, or revoked).") from error
        return self._config(project, headers)

    def flags(self, request: HttpRequest) -> dict[str, Any]:
        version, project = _version(request.query), self._project(request)
        wants_config = version is None or request.query.get("config", "").lower() == "true"
        config = self._config(project, request.headers) if project is not None and wants_config else None
        return no_flags(version, config, now_ms=self._now_ms(), request_id=self._request_ids())

    def decide(self, request: HttpRequest) -> dict[str, Any]:
        project = self._project(request)
        config = self._config(project, request.headers) if project is not None else None
        return decide(_version(request.query), config, now_ms=self._now_ms(), request_id=self._request_ids())

    def _config(self, project: Project, headers: Mapping[str, str]) -> dict[str, Any]:
        # The answer depends on the page's origin (the project's recording domains): caches keep
        # one per Origin (every answer says `Vary: Origin`).
        origin = page_origin(headers)
        # A project over its recordings quota records nothing until the month ends: its pages are
        # told so, rather than sending recordings that would not be kept.
        over_quota = project.quotas.limits(RECORDINGS, datetime.fromtimestamp(self._clock(), UTC))
        recordings = self._recordings and not over_quota
        return remote_config(project.token, project.settings, recordings=recordings, origin=origin)

    def _now_ms(self) -> int:
        return int(self._clock() * 1000)

    def _project(self, request: HttpRequest) -> Project | None:
        """The request's project; None for a GET without any token, which PostHog answers with an
        empty answer (a link checker, a prefetch), not 401."""
        payload: Any = None
        if request.body or request.query.get("data"):
            # Decoded exactly as capture bodies are: gzip text/plain, base64 forms, JSON.
            decoded = decode_payload(
                request.query,
                request.headers,
                request.body,
                max_payload_bytes=self._settings.max_payload_bytes,
                parse_budget_bytes=self._settings.parse_budget_bytes,
            )
            payload, form = decoded.data, decoded.form
        else:
            form = {}
        try:
            token = config_token(_body_token(payload), form, request.query, request.headers)
        except MissingApiKey:
            if request.method in {"GET", "HEAD"}:
                return None
            raise
        return self._keys.project_key(token)


def _body_token(payload: Any) -> Any:
    if not isinstance(payload, dict):
        return None
    return payload["token"] if payload.get("token") is not None else payload.get("api_key")


def add_routes(
    app: CaptureResolver, lane: RemoteConfig, settings: Settings, sdk_script: Callable[[], Path | None]
) -> None:
    """Serve the remote config, `/flags` and `/decide`; `sdk_script` finds posthog-js's newest
    `array.js` (the scripts lane's files), which PostHog's snippet loads with the config."""
    max_age = f"public, max-age={settings.remote_config_max_age_seconds}"

    def array_js(token: str) -> Response[str]:
        # PostHog's HTML snippet loads the SDK from here: the SDK, then the project's config.
        config = lane.config(token, request_headers(app))
        sdk = sdk_script()
        if sdk is None:
            raise NotFound("This API has no posthog-js array.js in its assets (run `make assets`).")
        script = sdk.read_text(encoding="utf-8") + "\n" + config_script(config["token"], config)
        return responses.document(
            script,
            request_headers(app),
            cache_control=max_age,
            content_type=responses.JAVASCRIPT,
            compress=True,
        )

    def config_json(token: str) -> Response[str]:
        headers = request_headers(app)
        return responses.document(lane.config(token, headers), headers, cache_control=max_age)

    def config_js(token: str) -> Response[str]:
        config = lane.config(token, request_headers(app))
        script = config_script(config["token"], config)
        return responses.document(
            script, request_headers(app), cache_control=max_age, content_type=responses.JAVASCRIPT
        )

    def flags() -> Response[str]:
        request = current_request(app, settings.max_request_bytes)
        return responses.document(lane.flags(request), request.headers, cache_control=NO_STORE)

    def decide_route() -> Response[str]:
        request = current_request(app, settings.max_request_bytes)
        return responses.document(lane.decide(request), request.headers, cache_control=NO_STORE)

    add_route(
        app, "/array/<token>/config", "GET", config_json, Doc("Remote config (JSON)", "CONFIG_RESPONSES")
    )
    add_route(
        app,
        "/array/<token>/config.js",
        "GET",
        config_js,
        Doc("Remote config (script)", "CONFIG_JS_RESPONSES"),
    )
    add_route(
        app,
        "/array/<token>/array.js",
        "GET",
        array_js,
        Doc("posthog-js with the project's config (PostHog's snippet)", "ARRAY_JS_RESPONSES"),
    )
    for path in ("/array/<token>/config", "/array/<token>/config.js", "/array/<token>/array.js"):
        shared.add_preflight(app, path)
    # Both methods on both paths: the SDKs POST, and a GET with the query alone is answered alike.
    for method in ("GET", "POST"):
        verb = method.lower()
        flags_doc = Doc("Feature flags (none)", "FLAGS_RESPONSES", f"{verb}_flags", ("flags",), "flags")
        add_route(app, FLAGS_PATH, method, flags, flags_doc)
        decide_doc = Doc(
            "Legacy decide (remote config, no flags)", "DECIDE_RESPONSES", f"{verb}_decide", ("decide",)
        )
        add_route(app, DECIDE_PATH, method, decide_route, decide_doc)
    shared.add_preflight(app, FLAGS_PATH, "options_flags", ("flags",))
    shared.add_preflight(app, DECIDE_PATH, "options_decide", ("decide",))
