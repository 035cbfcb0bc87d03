"""Settings: one typed model, read from the environment once per Lambda container."""

from __future__ import annotations

from functools import lru_cache

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from capture_core import limits

MIB = limits.MIB


class Settings(BaseSettings):
    """Every setting of the functions, with its environment variable (the field name, upper-cased)."""

    model_config = SettingsConfigDict(frozen=True, extra="ignore")

    events_stream_name: str = Field("capture-events", description="Firehose stream the events go to.")
    recordings_stream_name: str = Field(
        "capture-recordings", description="Firehose stream the session recordings go to."
    )
    api_keys_table_name: str = Field("capture-api-keys", description="DynamoDB table of API keys.")
    capture_aws_endpoint_url: str = Field(
        "", description="Endpoint for every AWS client (a moto server locally); empty means AWS itself."
    )
    max_request_bytes: int = Field(
        limits.MAX_REQUEST_BYTES, gt=0, description="Largest request body, after base64."
    )
    max_payload_bytes: int = Field(
        limits.MAX_PAYLOAD_BYTES, gt=0, description="Largest payload after decompression."
    )
    max_stored_bytes: int = Field(
        limits.MAX_STORED_BYTES,
        gt=0,
        description="Largest total of a request's stored lines (tiny events inflate).",
    )
    max_record_bytes: int = Field(
        limits.FIREHOSE_MAX_RECORD_BYTES,
        gt=0,
        le=limits.FIREHOSE_MAX_RECORD_BYTES,
        description="Largest stored event, one Firehose record (Firehose's own cap: 1,000 KiB).",
    )
    key_cache_ttl_seconds: float = Field(
        60.0, ge=0, description="How long a key lookup (hit or miss) is cached; bounds revocation delay."
    )
    key_cache_max_size: int = Field(10_000, gt=0, description="Most key lookups cached per container.")
    sink_time_budget_seconds: float = Field(
        8.0, gt=0, description="Longest time spent delivering one request's events, retries included."
    )
    sink_time_margin_seconds: float = Field(
        1.5, ge=0, description="Time kept back from the Lambda's remaining time to answer 503 in time."
    )

    max_parse_memory_mb: int = Field(
        0,
        ge=0,
        description="Most memory (MiB) a payload's parsed form may take, estimated before parsing; "
        "0 means 35 % of the function's memory.",
    )
    aws_lambda_function_memory_size: int = Field(
        512, gt=0, description="Set by Lambda: the function's memory (MB), which some limits derive from."
    )

    remote_config_max_age_seconds: int = Field(
        300, ge=0, description="How long browsers and CDNs may keep a project's remote config."
    )
    static_assets_dir: str = Field(
        "/opt/posthog-js", description="Folder of posthog-js's lazy-loaded scripts, one folder per version."
    )
    static_assets_fallback_host: str = Field(
        "",
        description="Host to redirect to for a posthog-js version this API has no scripts of "
        "(e.g. us-assets.i.posthog.com); empty serves the newest version it has.",
    )

    api_base_path: str = Field(
        "",
        description="The base path a custom domain maps this API under (e.g. `ingest`), which API Gateway "
        "keeps in the request's path; routes match without it. Empty: none.",
    )

    sdk_tracing: bool = Field(
        False,
        description="X-Ray SDK subsegments for AWS calls (Powertools' Tracer); costs ~270 ms of cold start. "
        "Tracing: Active gives the API Gateway and Lambda segments without it.",
    )

    serve_openapi: bool = Field(
        False, description="Serve the OpenAPI document at /openapi.json and Swagger UI at /docs."
    )

    @property
    def endpoint_url(self) -> str | None:
        return self.capture_aws_endpoint_url or None

    @property
    def parse_budget_bytes(self) -> int:
        # 35 % leaves room for the interpreter, the body, the stored lines and the request to
        # Firehose within 60 % of the function's memory (bench/worst_case.py measures it).
        megabytes = self.max_parse_memory_mb or self.aws_lambda_function_memory_size * 35 // 100
        return megabytes * MIB


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The container's settings, read from the environment on first use."""
    return Settings()
