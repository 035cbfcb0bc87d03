"""The OpenAPI document: the routes' parameters and answers, and one document merged from both
functions' resolvers by Powertools. `make openapi` writes it to openapi.json."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Header, Query

from capture_core import limits
from capture_core.api.routes import V1_PATH
from capture_core.docs.models import (
    CaptureRequestBody,
    DecideResponse,
    EventsCaptureClientErrorResponse,
    EventsCaptureResponse,
    EventsCaptureServerErrorResponse,
    EventsCaptureUnauthenticatedResponse,
    FlagsResponse,
    FlagsV1Response,
    HealthResponse,
    RemoteConfigResponse,
    SnapshotEvent,
    StoredEvent,
    V1CaptureRequest,
    V1CaptureResponse,
    V1ErrorResponse,
    V1RequestHeaders,
)
from capture_core.limits import size_text

TITLE = "PostHog Capture API"
VERSION = "1.0.0"
_REQUEST, _PAYLOAD = size_text(limits.MAX_REQUEST_BYTES), size_text(limits.MAX_PAYLOAD_BYTES)
_EVENT = size_text(limits.FIREHOSE_MAX_RECORD_BYTES)
DESCRIPTION = f"""\
Capture PostHog events: a single event, a JSON array of events, or a batch envelope, from any \
official PostHog SDK. A 200 means every event of the request is stored: acknowledged by Firehose, or \
written by the function to the events bucket when Firehose cannot take it (it throttles or fails, or a \
recording is over its 1,000 KiB record). Only when both fail is the answer 503.

**The project API key** is taken from, first found: the envelope's `api_key` or `token`; the \
events' `api_key`, `token`, `$token` or `properties.token` (all alike, else 401 \
`inconsistent_api_keys`); the form fields `api_key`/`token`; the query parameters \
`api_key`/`token`; `Authorization: Bearer <key>`. Personal API keys (`phx_…`) also need a \
`project_id` (envelope, event, or query).

**Encodings.** The body may be JSON, gzip (hinted by `compression=gzip-js`, `Content-Encoding: \
gzip`, or recognised by its magic bytes, whatever the Content-Type), base64, lz-string \
(`compression=lz64`), a form with a `data` field (`application/x-www-form-urlencoded` or \
`multipart/form-data`), or the `data` query parameter (GET).

**Limits.** Request body after base64: {_REQUEST}; payload after decompression: {_PAYLOAD} (413 \
`request_too_large`); one stored analytics event: {_EVENT} (413 `event_too_large`). A session \
recording's `$snapshot` has no limit of its own: posthog-js counts a compressed snapshot in UTF-16 \
code units (gzip bytes as a latin-1 string, length + 2) and never splits one, and stored as UTF-8 \
JSON it takes about 2.1 bytes per unit, so whatever a request carries is stored whole. API Gateway \
caps requests at {limits.API_GATEWAY_MAX_BODY_BYTES >> 20} MB and Lambda at \
{limits.LAMBDA_MAX_EVENT_BYTES >> 20} MB (about 4.5 MB of binary body once base64-encoded).

**Answers** carry CORS headers: `Access-Control-Allow-Origin` is the request's Origin (or `*`), \
with `Access-Control-Allow-Credentials: true` and `Vary: Origin`.
"""

FORM_MEDIA_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
TEXT_MEDIA_TYPE = "text/plain"

PostBody = Annotated[
    CaptureRequestBody | None,
    Body(
        description="A single event, a JSON array of events, or a batch envelope; JSON, or gzip, base64 or "
        "lz-string encoded. As `text/plain`: the same bytes (posthog-js sends gzip this way). As a form: "
        "a `data` field holding the encoded payload, with optional `compression`, `api_key`, `token`.",
    ),
]
Ip = Annotated[str | None, Query(description="Ignored; posthog-js sends `ip=1`.")]
Compression = Annotated[
    str | None,
    Query(
        description="How the payload is encoded: `gzip`/`gzip-js`, `lz64`/`lz-string`, `base64`/`b64`; "
        "other values are ignored."
    ),
]
Data = Annotated[
    str | None,
    Query(description="The payload, instead of a body (required for GET): JSON, base64 or lz-string."),
]
Beacon = Annotated[str | None, Query(description="`1`: answer 204 with no body (navigator.sendBeacon).")]
SentAt = Annotated[
    str | None, Query(alias="_", description="When the client sent the request, in epoch milliseconds.")
]

FlagsVersion = Annotated[
    str | None,
    Query(
        alias="v",
        description="The answer's version: 2 and later `flags`; 1 (or no number) `featureFlags`; none: "
        "2 with the remote config. On `/decide` (none: 1): 1 a list, 2 active flags, 3 with payloads, "
        "4 `flags`.",
    ),
]
WithConfig = Annotated[
    str | None, Query(alias="config", description="`true`: the remote config's fields too.")
]
ScriptVersion = Annotated[str | None, Query(alias="v", description="The posthog-js version asking.")]

RESPONSES: dict[int, Any] = {
    200: {
        "description": "Every event of the request is stored.",
        "content": {"application/json": {"model": EventsCaptureResponse}},
    },
    204: {"description": "Stored, for `beacon=1`: no body."},
    400: {
        "description": "The payload cannot be read (`invalid_payload`, `attr` naming the field) or holds "
        "no events (`no_data`).",
        "content": {"application/json": {"model": EventsCaptureClientErrorResponse}},
    },
    401: {
        "description": "No API key, an unknown or revoked one, different keys in one request, or a personal "
        "key without `project_id`.",
        "content": {"application/json": {"model": EventsCaptureUnauthenticatedResponse}},
    },
    413: {
        "description": f"The request or the decompressed payload is over {_PAYLOAD} "
        f"(`request_too_large`), or one analytics event is over {_EVENT} once stored (`event_too_large`).",
        "content": {"application/json": {"model": EventsCaptureClientErrorResponse}},
    },
    503: {
        "description": "Not stored now (`sink_unavailable`: neither Firehose nor S3 took every event; "
        "`auth_unavailable`): retry after `Retry-After` seconds. Events of the request may have been "
        "stored already; they keep their uuid.",
        "content": {"application/json": {"model": EventsCaptureServerErrorResponse}},
    },
}
_CLIENT_ERROR = {"application/json": {"model": EventsCaptureClientErrorResponse}}
_UNAUTHENTICATED = {"application/json": {"model": EventsCaptureUnauthenticatedResponse}}
_SERVER_ERROR = {"application/json": {"model": EventsCaptureServerErrorResponse}}
CONFIG_RESPONSES: dict[int, Any] = {
    200: {
        "description": "The project's remote config. Cached by browsers and CDNs (Cache-Control max-age).",
        "content": {"application/json": {"model": RemoteConfigResponse}},
    },
    400: {"description": "The key is malformed (`invalid_payload`).", "content": _CLIENT_ERROR},
    404: {"description": "No active project has this key (`not_found`).", "content": _CLIENT_ERROR},
    503: {"description": "The key could not be checked now (`auth_unavailable`).", "content": _SERVER_ERROR},
}
CONFIG_JS_RESPONSES: dict[int, Any] = {
    **CONFIG_RESPONSES,
    200: {
        "description": "The remote config as a script: window._POSTHOG_REMOTE_CONFIG[token] = "
        "{config, siteApps}.",
        "content": {"application/javascript": {"schema": {"type": "string"}}},
    },
}
_FLAGS_ERRORS: dict[int, Any] = {
    400: {"description": "The body cannot be read, or the key is malformed.", "content": _CLIENT_ERROR},
    401: {"description": "No key, or an unknown or revoked one.", "content": _UNAUTHENTICATED},
    413: {"description": "The body is over the limits.", "content": _CLIENT_ERROR},
    503: {"description": "The key could not be checked now (`auth_unavailable`).", "content": _SERVER_ERROR},
}
FLAGS_RESPONSES: dict[int, Any] = {
    200: {
        "description": "No feature flags: this API evaluates none. `v` >= 2: `flags`; `v` = 1: "
        "`featureFlags` and `featureFlagPayloads`; no `v`: `flags` and the remote config. With "
        "`config=true`, the remote config's fields too. A GET without any token: the empty answer.",
        "content": {"application/json": {"model": FlagsResponse | FlagsV1Response}},
    },
    **_FLAGS_ERRORS,
}
DECIDE_RESPONSES: dict[int, Any] = {
    200: {
        "description": "The remote config and no feature flags (posthog-js 1.200 and older).",
        "content": {"application/json": {"model": DecideResponse}},
    },
    **_FLAGS_ERRORS,
}
HEALTH_RESPONSES: dict[int, Any] = {
    200: {
        "description": "The key table and both Firehose streams are reachable (each container asks AWS "
        "at most every few seconds).",
        "content": {"application/json": {"model": HealthResponse}},
    },
    503: {
        "description": "The key table (`auth_unavailable`) or a stream (`sink_unavailable`) is not "
        "reachable; `attr` names the first failed check.",
        "content": _SERVER_ERROR,
    },
}
ARRAY_JS_RESPONSES: dict[int, Any] = {
    **CONFIG_RESPONSES,
    200: {
        "description": "posthog-js's array.js (the newest version this API has) followed by the project's "
        "config.js: what PostHog's HTML snippet loads.",
        "content": {"application/javascript": {"schema": {"type": "string"}}},
    },
}
DEFINITIONS_RESPONSES: dict[int, Any] = {
    200: {
        "description": 'No flag definitions: `{"flags": [], "group_type_mapping": {}, "cohorts": {}}`.',
        "content": {"application/json": {"schema": {"type": "object"}}},
    },
    400: {"description": "The `token` is malformed.", "content": _CLIENT_ERROR},
    401: {
        "description": "No personal API key (`Authorization: Bearer phx_…`), or one not scoped to the "
        "token's project, or an unknown or revoked token.",
        "content": _UNAUTHENTICATED,
    },
    503: {"description": "The keys could not be checked now (`auth_unavailable`).", "content": _SERVER_ERROR},
}
FLAG_PAYLOAD_RESPONSES: dict[int, Any] = {
    404: {"description": "There is no flag of that name: this API evaluates none.", "content": _CLIENT_ERROR},
}
PRODUCT_LIST_RESPONSES: dict[int, Any] = {
    200: {
        "description": "The product's empty list, under the key posthog-js reads (`surveys`, "
        "`earlyAccessFeatures`, `product_tours`, `experiments`).",
        "content": {"application/json": {"schema": {"type": "object"}}},
    },
    400: {"description": "The `token` is malformed.", "content": _CLIENT_ERROR},
    401: {"description": "No `token`, or an unknown or revoked one.", "content": _UNAUTHENTICATED},
    503: {"description": "The key could not be checked now (`auth_unavailable`).", "content": _SERVER_ERROR},
}
SCRIPT_RESPONSES: dict[int, Any] = {
    200: {
        "description": "The script, of the version asked for (Cache-Control immutable) or of the newest "
        "version this API has.",
        "content": {"application/javascript": {"schema": {"type": "string"}}},
    },
    302: {"description": "Another version's script, at the asset host the operator chose."},
    404: {"description": "No posthog-js script has this name (`not_found`).", "content": _CLIENT_ERROR},
}
V1Body = Annotated[
    V1CaptureRequest | None,
    Body(description="The batch: JSON, raw or with Content-Encoding gzip, deflate, br or zstd."),
]
# A model as a header parameter: Powertools documents each of its fields as a header, required as
# the field is.
V1HeaderParameters = Annotated[V1RequestHeaders, Header()]
RecordingsBody = Annotated[
    list[SnapshotEvent] | None,
    Body(description="$snapshot events: a JSON array, gzip'd as text/plain by posthog-js."),
]


# The parameters each route documents, as signatures only (a route's `Doc.parameters` names one;
# its path parameters come from the path). The lanes read their requests themselves, since they
# accept more encodings than a schema can describe, so their handlers declare none of these.
def v0_capture_post(
    body: PostBody = None,
    *,
    ip: Ip = None,
    compression: Compression = None,
    data: Data = None,
    beacon: Beacon = None,
    sent_at: SentAt = None,
) -> None: ...


def v0_capture_get(
    data: Data = None,
    *,
    ip: Ip = None,
    compression: Compression = None,
    beacon: Beacon = None,
    sent_at: SentAt = None,
) -> None: ...


def v1_capture(body: V1Body = None, *, required_headers: V1HeaderParameters) -> None: ...


def recordings(body: RecordingsBody = None) -> None: ...


def flags(version: FlagsVersion = None, with_config: WithConfig = None) -> None: ...


def script(v: ScriptVersion = None) -> None: ...


_V1_ERROR = {"application/json": {"model": V1ErrorResponse}}
V1_RESPONSES: dict[int, Any] = {
    200: {
        "description": "One result per event, by uuid (headers: PostHog-Request-Id echoed; Retry-After "
        "when some event is `retry`).",
        "content": {"application/json": {"model": V1CaptureResponse}},
    },
    400: {
        "description": "Required headers missing (`missing_required_headers`, naming them) or malformed, "
        "the body unreadable, an empty batch, a bad created_at, a uuid missing, invalid or repeated.",
        "content": _V1_ERROR,
    },
    401: {"description": "No Authorization, or not a project API key.", "content": _V1_ERROR},
    413: {"description": "The body is over the limits (`payload_too_large`).", "content": _V1_ERROR},
    415: {
        "description": "Content-Type not application/json, or another Content-Encoding.",
        "content": _V1_ERROR,
    },
    503: {
        "description": "Nothing could be stored now: retry after Retry-After seconds.",
        "content": _V1_ERROR,
    },
}
RECORDINGS_RESPONSES: dict[int, Any] = {
    200: {
        "description": "Every $snapshot event of the request is stored, whatever its size (one over a "
        "Firehose record is written to the recordings prefix by the function itself).",
        "content": {"application/json": {"model": EventsCaptureResponse}},
    },
    204: {"description": "Stored, for `beacon=1`: no body."},
    400: {
        "description": "The payload cannot be read, an event lacks `$session_id` or `$snapshot_data` "
        "(`attr` names it), or the project has session recording off.",
        "content": _CLIENT_ERROR,
    },
    401: {"description": "No usable API key.", "content": _UNAUTHENTICATED},
    413: {
        "description": f"The request is over {_REQUEST} or its payload over {_PAYLOAD} once inflated "
        "(`request_too_large`). A snapshot is never refused for its own size.",
        "content": _CLIENT_ERROR,
    },
    503: {"description": "Not stored now: retry after `Retry-After` seconds.", "content": _SERVER_ERROR},
}
PREFLIGHT_RESPONSES: dict[int, Any] = {
    200: {
        "description": "CORS preflight: allows GET, POST, OPTIONS; mirrors Access-Control-Request-Headers.",
        "content": {"text/plain": {"schema": {"type": "string", "maxLength": 0}}},
    }
}


def merged_document(apps: Sequence[APIGatewayRestResolver]) -> dict[str, Any]:
    """One document for the resolvers of both functions."""
    # Imported here, not at cold start: only the docs need them, and they cost ~50 ms to import.
    from aws_lambda_powertools.event_handler.openapi.merge import OpenAPIMerge  # noqa: PLC0415

    merge = OpenAPIMerge(title=TITLE, version=VERSION, description=DESCRIPTION, on_conflict="error")
    for app in apps:
        merge.add_schema(
            app.get_openapi_schema(title=TITLE, version=VERSION).model_dump(by_alias=True, exclude_none=True)
        )
    document: dict[str, Any] = json.loads(merge.get_openapi_json_schema())
    document["servers"] = [
        {"url": "/", "description": "Paths also take a trailing slash (/batch/), as SDKs send."}
    ]
    for path, operations in document["paths"].items():
        body = operations.get("post", {}).get("requestBody", {}).get("content", {})
        # v1 takes JSON only; every other body is decoded as capture's are.
        if "application/json" in body and path != V1_PATH:
            # The same payload arrives under other media types too; the decoder reads them all.
            body[TEXT_MEDIA_TYPE] = {
                "schema": {"type": "string", "description": "The encoded payload's bytes."}
            }
            for media_type in FORM_MEDIA_TYPES:
                body[media_type] = {"schema": _FORM_SCHEMA}
    used = json.dumps(document["paths"])
    schemas = document["components"]["schemas"]
    # Powertools adds its request-validation models; this API never answers with them.
    for name in [name for name in schemas if f"#/components/schemas/{name}" not in used]:
        if not any(f"#/components/schemas/{name}" in json.dumps(other) for other in schemas.values()):
            del schemas[name]
    return document


def add_docs_routes(
    app: APIGatewayRestResolver, apps: Callable[[], Sequence[APIGatewayRestResolver]]
) -> None:
    """Serve the document merged from every function's resolver (`apps()`, built on first use)
    at /openapi.json and Swagger UI at /docs."""
    cache: dict[str, str] = {}

    def document_json() -> str:
        if "json" not in cache:
            cache["json"] = json.dumps(merged_document(apps())).replace("</", "<\\/")
        return cache["json"]

    @app.get("/openapi.json", include_in_schema=False)
    def openapi_json() -> Response[str]:
        return Response(
            200, "application/json", document_json(), headers={"Access-Control-Allow-Origin": "*"}
        )

    @app.get("/docs", include_in_schema=False)
    def swagger_ui() -> Response[str]:
        from aws_lambda_powertools.event_handler.openapi import swagger_ui as swagger_ui_package  # noqa: PLC0415
        from aws_lambda_powertools.event_handler.openapi.swagger_ui import generate_swagger_html  # noqa: PLC0415

        assets = Path(swagger_ui_package.__file__).parent
        html = generate_swagger_html(
            document_json(),
            (assets / "swagger-ui-bundle.min.js").read_text(encoding="utf-8"),
            (assets / "swagger-ui.min.css").read_text(encoding="utf-8"),
            swagger_base_url="",
            oauth2_config=None,
        )
        return Response(200, "text/html", html)


_FORM_SCHEMA = {
    "type": "object",
    "properties": {
        "data": {"type": "string", "description": "The payload: JSON, base64 or lz-string encoded."},
        "compression": {"type": "string", "description": "As the `compression` query parameter."},
        "api_key": {"type": "string"},
        "token": {"type": "string"},
    },
    "required": ["data"],
}


def stored_event_schema() -> dict[str, Any]:
    """The JSON Schema of a stored event (one NDJSON line in S3), for downstream consumers."""
    return StoredEvent.model_json_schema(by_alias=True)


def published_files(apps: Sequence[APIGatewayRestResolver], root: Path) -> dict[Path, str]:
    """The files published for consumers, by path under `root`: openapi.json and the stored
    event's JSON Schema."""
    files = {
        root / "openapi.json": merged_document(apps),
        root / "schemas" / "stored-event.schema.json": stored_event_schema(),
    }
    return {path: json.dumps(content, indent=2, ensure_ascii=False) + "\n" for path, content in files.items()}
