"""The API's public models, for its OpenAPI document (names follow "PostHog Capture API 1.0.0").

Requests are decoded and validated by `decoding`/`events` (they accept more shapes and encodings
than a JSON Schema can say); these models describe the JSON those requests carry and the answers.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from capture_core.decoding.content_encoding import ENCODINGS
from capture_core.limits import MAX_ID_LENGTH

JsonObject = dict[str, Any]


class SetPersonProperties(BaseModel):
    """Person properties to set (overwriting), sent as `$set`."""

    model_config = ConfigDict(extra="allow", json_schema_extra={"examples": [{"email": "ada@example.com"}]})


class SetOncePersonProperties(BaseModel):
    """Person properties to set only if not set yet, sent as `$set_once`."""

    model_config = ConfigDict(extra="allow", json_schema_extra={"examples": [{"first_seen": "2026-01-01"}]})


class Event(BaseModel):
    """One event. Any other top-level key is kept in the stored event."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)

    event: str = Field(min_length=1, description="The event's name.", examples=["$pageview"])
    distinct_id: str | int | float | bool | list[Any] | JsonObject | None = Field(
        None,
        description="Who did it. Else `$distinct_id`, else `properties.distinct_id`. Numbers, booleans, "
        "arrays and objects are stored as their JSON text; cut to 200 characters.",
        examples=["user-42"],
    )
    dollar_distinct_id: str | None = Field(
        None, alias="$distinct_id", description="Older spelling of distinct_id."
    )
    uuid: str | None = Field(
        None,
        description="The event's UUID: kept when valid; a server UUIDv7 when missing or empty.",
    )
    properties: JsonObject | None = Field(None, description="Event properties; missing or null means {}.")
    timestamp: str | int | float | None = Field(
        None,
        description="When it happened: ISO 8601 / RFC 3339 (with or without zone) or epoch milliseconds.",
        examples=["2026-01-15T09:59:58.500Z"],
    )
    offset: int | None = Field(
        None, description="Milliseconds before the request was sent; wins over timestamp."
    )
    set: SetPersonProperties | None = Field(None, alias="$set")
    set_once: SetOncePersonProperties | None = Field(None, alias="$set_once")
    api_key: str | None = Field(
        None, description="The project API key (also `token`, `$token`, properties.token)."
    )
    token: str | None = None
    dollar_token: str | None = Field(None, alias="$token")
    project_id: int | str | None = Field(None, description="The project a personal API key (phx_) writes to.")


class EventCaptureRequest(Event):
    """A single event with its project API key, as `/capture/` and `/i/v0/e/` take it."""

    api_key: str | None = Field(None, description="The project API key.", examples=["phc_local_demo_token"])


class EventsCaptureRequest(BaseModel):
    """A batch envelope, as server SDKs send it to `/batch/` and browsers to `/e/`."""

    model_config = ConfigDict(extra="allow")

    api_key: str | None = Field(
        None, description="The project API key (or `token`); wins over the events' keys."
    )
    token: str | None = None
    batch: list[Event] = Field(description="The events, at least one.", min_length=1)
    sent_at: str | None = Field(
        None, description="When the client sent the batch (ISO 8601), to correct clock skew."
    )
    historical_migration: bool | None = Field(None, description="True for imports of past events.")
    project_id: int | str | None = Field(None, description="The project a personal API key (phx_) writes to.")


CaptureRequestBody = EventCaptureRequest | list[Event] | EventsCaptureRequest


class EventsCaptureResponse(BaseModel):
    """Every event of the request is stored (acknowledged by Firehose)."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"status": 1}]})

    status: Literal[1] = 1


class ErrorBody(BaseModel):
    """The contract's error format."""

    type: str = Field(description="The error class.")
    code: str = Field(description="What went wrong, for programs.")
    detail: str = Field(description="What went wrong and how to fix it, for people.")
    attr: str | None = Field(description="Where, e.g. `batch[3].distinct_id`; null when not about one field.")


class EventsCaptureClientErrorResponse(ErrorBody):
    """400 (`invalid_payload`, `no_data`), 404 (`not_found`), 405 (`method_not_allowed`), 413
    (`request_too_large`, `event_too_large`)."""

    type: Literal["validation_error"] = "validation_error"
    code: Literal[
        "invalid_payload",
        "no_data",
        "not_found",
        "method_not_allowed",
        "request_too_large",
        "event_too_large",
    ]


class EventsCaptureUnauthenticatedResponse(ErrorBody):
    """401: no usable API key."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "type": "authentication_error",
                    "code": "invalid_api_key",
                    "detail": "The API key is not valid: it is unknown or has been revoked.",
                    "attr": None,
                }
            ]
        }
    )

    type: Literal["authentication_error"] = "authentication_error"
    code: Literal["missing_api_key", "invalid_api_key", "inconsistent_api_keys", "project_id_required"]


class EventsCaptureServerErrorResponse(ErrorBody):
    """503: not stored now; retry after `Retry-After` seconds. 500: an internal error (logged)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "type": "server_error",
                    "code": "sink_unavailable",
                    "detail": "The events could not be stored in time; retry the request.",
                    "attr": None,
                }
            ]
        }
    )

    type: Literal["server_error"] = "server_error"
    code: Literal["sink_unavailable", "auth_unavailable", "internal_error"]


class HealthResponse(BaseModel):
    """The key table and both streams are reachable (`GET /_health`)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "status": "ok",
                    "checks": {"api_keys_table": "ok", "events_stream": "ok", "recordings_stream": "ok"},
                }
            ]
        }
    )

    status: Literal["ok"] = "ok"
    checks: dict[str, str] = Field(description="Each dependency the functions need, and `ok`.")


class StoredEvent(BaseModel):
    """One event as stored in S3: a line of gzip'd NDJSON under events/year=/month=/day=/hour=/."""

    model_config = ConfigDict(extra="allow", title="StoredEvent")

    uuid: str = Field(description="The client's UUID, or the server's UUIDv7.")
    event: str
    distinct_id: str = Field(max_length=MAX_ID_LENGTH)
    properties: JsonObject
    set: JsonObject | None = Field(alias="$set", description="`$set`, top level or from properties.")
    set_once: JsonObject | None = Field(
        alias="$set_once", description="`$set_once`, top level or from properties."
    )
    timestamp: str = Field(description="UTC, ISO 8601 with milliseconds, corrected for client clock skew.")
    client_timestamp: str | None = Field(description="The timestamp the client sent, in UTC.")
    sent_at: str | None = Field(
        description="When the client sent the request (envelope sent_at or query `_`)."
    )
    now: str = Field(description="When the server received the request.")
    project_id: int
    token: str = Field(description="The project's API key (never a personal key).")
    ip: str | None = Field(description="The caller's address; null when the project anonymises IPs.")
    historical_migration: bool
    lib: str | None = Field(description="properties.$lib")
    lib_version: str | None = Field(description="properties.$lib_version")


# Remote config, flags and decide (docs/protocol.md §10)


class ErrorTracking(BaseModel):
    autocaptureExceptions: bool
    suppressionRules: list[Any]


class Analytics(BaseModel):
    endpoint: str = Field(description="Where posthog-js sends its events, relative to api_host.")


class RemoteConfigResponse(BaseModel):
    """A project's remote config, as posthog-js reads it; features follow the project's settings."""

    model_config = ConfigDict(
        extra="allow",
        json_schema_extra={
            "examples": [
                {
                    "token": "phc_local_demo_token",
                    "supportedCompression": ["gzip", "gzip-js"],
                    "hasFeatureFlags": False,
                    "autocapture_opt_out": False,
                    "capturePerformance": False,
                    "autocaptureExceptions": False,
                    "errorTracking": {"autocaptureExceptions": False, "suppressionRules": []},
                    "captureDeadClicks": False,
                    "heatmaps": False,
                    "sessionRecording": False,
                    "surveys": False,
                    "conversations": False,
                    "siteApps": [],
                    "elementsChainAsString": True,
                    "analytics": {"endpoint": "/i/v0/e/"},
                    "defaultIdentifiedOnly": True,
                }
            ]
        },
    )

    token: str
    supportedCompression: list[str]
    hasFeatureFlags: Literal[False]
    autocapture_opt_out: bool = Field(description="True when the project has autocapture off.")
    capturePerformance: bool | JsonObject
    autocaptureExceptions: bool
    errorTracking: ErrorTracking
    captureDeadClicks: bool
    heatmaps: bool
    sessionRecording: bool | JsonObject = Field(
        description="false, or where and how to send session recordings."
    )
    surveys: Literal[False]
    conversations: Literal[False]
    siteApps: list[Any]
    elementsChainAsString: bool
    analytics: Analytics
    defaultIdentifiedOnly: bool


class FlagsResponse(BaseModel):
    """`/flags?v=2` and later: no flags, never an error. With `config=true`, the remote config's
    fields too."""

    model_config = ConfigDict(
        extra="allow",
        json_schema_extra={
            "examples": [
                {
                    "flags": {},
                    "errorsWhileComputingFlags": False,
                    "requestId": "0d6bd4ee-5ac8-4a8e-9e58-0d0b3a7a83b9",
                    "evaluatedAt": 1795752000000,
                }
            ]
        },
    )

    flags: JsonObject
    errorsWhileComputingFlags: Literal[False]
    requestId: str
    evaluatedAt: int


class FlagsV1Response(BaseModel):
    """`/flags?v=1` (or a `v` that is no number)."""

    model_config = ConfigDict(
        extra="allow",
        json_schema_extra={
            "examples": [
                {
                    "featureFlags": {},
                    "featureFlagPayloads": {},
                    "errorsWhileComputingFlags": False,
                    "requestId": "0d6bd4ee-5ac8-4a8e-9e58-0d0b3a7a83b9",
                    "evaluatedAt": 1795752000000,
                }
            ]
        },
    )

    featureFlags: JsonObject
    featureFlagPayloads: JsonObject
    errorsWhileComputingFlags: Literal[False]
    requestId: str
    evaluatedAt: int


class DecideResponse(BaseModel):
    """The legacy `/decide`: the remote config's fields (when a project key was sent) and no flags,
    in the shape of each version: v1 `featureFlags: []`, v2 `featureFlags: {}`, v3 with
    `featureFlagPayloads`, v4 `flags` with `requestId` and `evaluatedAt`."""

    model_config = ConfigDict(extra="allow")

    featureFlags: JsonObject | list[str] | None = None
    featureFlagPayloads: JsonObject | None = None
    flags: JsonObject | None = None
    errorsWhileComputingFlags: Literal[False]


# Capture v1 (docs/protocol.md §11)


class V1Event(BaseModel):
    """One v1 event. Options become properties of the stored event ($process_person_profile, ...)."""

    model_config = ConfigDict(extra="allow")

    event: str = Field(description="The event's name (at most 200 characters).", examples=["signed_up"])
    uuid: str = Field(description="The event's UUID: unique in the batch, the key of its result.")
    distinct_id: str = Field(description="Who did it (at most 200 characters).")
    timestamp: str = Field(description="When it happened (RFC 3339), corrected for clock skew.")
    session_id: str | None = None
    window_id: str | None = None
    options: JsonObject | None = Field(
        None,
        description="`process_person_profile`, `cookieless_mode`, `disable_skew_correction`, "
        "`product_tour_id`.",
    )
    properties: JsonObject | None = None


class V1CaptureRequest(BaseModel):
    """A v1 batch, sent with `Authorization: Bearer <project API key>` and PostHog-* headers."""

    created_at: str = Field(description="When the batch was made (RFC 3339).")
    historical_migration: bool | None = None
    batch: list[V1Event] = Field(min_length=1)


class V1RequestHeaders(BaseModel):
    """A v1 request's headers, each of visible ASCII: without one of the required ones the answer
    is 400 `missing_required_headers`, naming them (401 without Authorization)."""

    authorization: str = Field(
        alias="Authorization",
        description="`Bearer <project API key>`. Another scheme: 400 `invalid_header_value`; a malformed "
        "key or a personal API key (`phx_…`): 401 `invalid_api_token`.",
    )
    posthog_sdk_info: str = Field(
        alias="PostHog-Sdk-Info",
        description="`<lib>/<version>` (`posthog-python/7.0.0`): the stored events' `$lib` and "
        "`$lib_version`.",
    )
    posthog_attempt: int = Field(alias="PostHog-Attempt", description="Which attempt this is, from 1.")
    posthog_request_id: str = Field(
        alias="PostHog-Request-Id", description="The request's UUID; the answer carries it back."
    )
    posthog_request_timestamp: str = Field(
        alias="PostHog-Request-Timestamp",
        description="When this attempt was sent (RFC 3339): the events' clock skew is measured from it.",
    )
    # OpenAPI ignores a Content-Type header parameter (Powertools leaves it out): the document says
    # it as the request body's one media type.
    content_type: str = Field(
        alias="Content-Type", description="`application/json`; another media type: 415."
    )
    user_agent: str = Field(alias="User-Agent", description="The SDK's user agent.")
    content_encoding: str | None = Field(
        None,
        alias="Content-Encoding",
        description=f"The body's encoding, if any: {', '.join(ENCODINGS)}; another: 415 "
        "`unsupported_encoding`.",
    )


class V1Result(BaseModel):
    result: Literal["ok", "warning", "drop", "retry"]
    details: str | None = Field(None, description="Why, for drop and retry: e.g. event_name_too_long.")


class V1CaptureResponse(BaseModel):
    """One result per event, by uuid: `retry` for events to send again (with `Retry-After`)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "results": {
                        "0193a1b2-0000-7000-8000-000000000001": {"result": "ok"},
                        "0193a1b2-0000-7000-8000-000000000002": {
                            "result": "drop",
                            "details": "event_name_too_long",
                        },
                    }
                }
            ]
        }
    )

    results: dict[str, V1Result]


class V1ErrorResponse(BaseModel):
    """Capture v1's error format."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "error": "missing_required_headers",
                    "error_description": "Required headers are missing: PostHog-Attempt.",
                    "error_uri": "https://posthog.com/docs/api",
                }
            ]
        }
    )

    error: str = Field(description="What went wrong, for programs: e.g. empty_batch, invalid_api_token.")
    error_description: str = Field(description="What went wrong, for people.")
    error_uri: str


# Session recordings (docs/protocol.md §12)


class SnapshotEvent(BaseModel):
    """A `$snapshot` event as posthog-js sends it to `/s/`."""

    model_config = ConfigDict(extra="allow")

    event: Literal["$snapshot"] = "$snapshot"
    properties: JsonObject = Field(
        description="`$snapshot_data` (rrweb events, an array or object), `$session_id` (at most 70 "
        "letters, digits and hyphens), `$window_id`, `$snapshot_bytes`, `distinct_id`, `token`."
    )
