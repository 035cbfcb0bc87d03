"""Settings: one typed model, read from the environment once per Lambda container.

A plain dataclass rather than pydantic-settings: reading a dozen variables needs no library, and
importing one cost every cold start about 100 ms. Each field's environment variable is its name
in upper case; `from_environment` checks types and bounds and names the variable it refuses.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from capture_core import limits

MIB = limits.MIB
# Where each stream's objects go in the bucket (Firehose's `Prefix`, evaluated at arrival): the
# template gives its streams and the functions the same, so the direct path writes the same hour
# partitions as Firehose.
_HOURLY = "year=!{timestamp:yyyy}/month=!{timestamp:MM}/day=!{timestamp:dd}/hour=!{timestamp:HH}/"
_TRUE, _FALSE = {"1", "true", "yes", "on"}, {"0", "false", "no", "off", ""}


def setting(default: Any, description: str, *, minimum: float | None = None, above: float | None = None,
            maximum: float | None = None) -> Any:  # fmt: skip
    """A field with its one-line description and its bounds (`above`: strictly greater than)."""
    return field(
        default=default, metadata={"description": description, "min": minimum, "above": above, "max": maximum}
    )


@dataclass(frozen=True)
class Settings:
    """Every setting of the functions, with its environment variable (the field name, upper-cased)."""

    events_stream_name: str = setting("capture-events", "Firehose stream the events go to.")
    recordings_stream_name: str = setting(
        "capture-recordings", "Firehose stream the session recordings go to."
    )
    events_bucket_name: str = setting(
        "capture-events",
        "S3 bucket both streams deliver to; the direct path writes what Firehose cannot take there.",
    )
    events_prefix: str = setting(
        f"events/{_HOURLY}", "The events stream's S3 prefix (Firehose's expression), for the direct path."
    )
    recordings_prefix: str = setting(
        f"recordings/{_HOURLY}",
        "The recordings stream's S3 prefix (Firehose's expression), for the direct path.",
    )
    api_keys_table_name: str = setting("capture-api-keys", "DynamoDB table of API keys.")
    usage_table_name: str = setting("capture-usage", "DynamoDB table of each project's usage per month.")
    alarm_topic_arn: str = setting(
        "", "SNS topic the usage counter sends quota notices to (80 % and 100 %); empty sends none."
    )
    capture_aws_endpoint_url: str = setting(
        "", "Endpoint for every AWS client (a moto server locally); empty means AWS itself."
    )
    max_request_bytes: int = setting(limits.MAX_REQUEST_BYTES, "Largest request body, after base64.", above=0)
    max_payload_bytes: int = setting(
        limits.MAX_PAYLOAD_BYTES, "Largest payload after decompression.", above=0
    )
    max_stored_bytes: int = setting(
        limits.MAX_STORED_BYTES, "Largest total of a request's stored lines (tiny events inflate).", above=0
    )
    max_event_bytes: int = setting(
        limits.FIREHOSE_MAX_RECORD_BYTES,
        "Largest stored analytics event, at most one Firehose record (1,000 KiB); recordings have none.",
        above=0,
        maximum=limits.FIREHOSE_MAX_RECORD_BYTES,
    )
    key_cache_ttl_seconds: float = setting(
        60.0, "How long a key lookup (hit or miss) is cached; bounds revocation delay.", minimum=0
    )
    key_cache_max_size: int = setting(10_000, "Most key lookups cached per container.", above=0)
    firehose_budget_seconds: float = setting(
        3.0,
        "Longest time spent resending to Firehose what it did not take, before the rest goes to S3 directly.",
        minimum=0.5,
    )
    direct_path_budget_seconds: float = setting(
        3.0,
        "Longest time spent writing to S3 what Firehose did not take, retries included; past it the "
        "answer is 503.",
        minimum=1.0,
    )
    sink_time_margin_seconds: float = setting(
        1.5, "Time kept back from the Lambda's remaining time to answer in time.", minimum=0
    )
    max_parse_memory_mb: int = setting(
        0,
        "Most memory (MiB) a payload's parsed form may take, estimated before parsing; "
        "0 means 35 % of the function's memory.",
        minimum=0,
    )
    aws_lambda_function_memory_size: int = setting(
        512, "Set by Lambda: the function's memory (MB), which some limits derive from.", above=0
    )
    remote_config_max_age_seconds: int = setting(
        300, "How long browsers and CDNs may keep a project's remote config.", minimum=0
    )
    static_assets_dir: str = setting(
        "/opt/posthog-js", "Folder of posthog-js's lazy-loaded scripts, one folder per version."
    )
    static_assets_fallback_host: str = setting(
        "",
        "Host to redirect to for a posthog-js version this API has no scripts of "
        "(e.g. us-assets.i.posthog.com); empty serves the newest version it has.",
    )
    api_base_path: str = setting(
        "",
        "The base path a custom domain maps this API under (e.g. `ingest`), which API Gateway "
        "keeps in the request's path; routes match without it. Empty: none.",
    )
    sdk_tracing: bool = setting(
        False,
        "X-Ray SDK subsegments for AWS calls (Powertools' Tracer); adds to every "
        "cold start. Tracing: Active gives the API Gateway and Lambda segments without it.",
    )
    serve_openapi: bool = setting(
        False, "Serve the OpenAPI document at /openapi.json and Swagger UI at /docs."
    )

    def __post_init__(self) -> None:
        for spec in dataclasses.fields(self):
            value, bounds = getattr(self, spec.name), spec.metadata
            name = spec.name.upper()
            if bounds["above"] is not None and not value > bounds["above"]:
                raise ValueError(f"{name} must be more than {bounds['above']}, not {value}")
            if bounds["min"] is not None and value < bounds["min"]:
                raise ValueError(f"{name} must be at least {bounds['min']}, not {value}")
            if bounds["max"] is not None and value > bounds["max"]:
                raise ValueError(f"{name} must be at most {bounds['max']}, not {value}")

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] = os.environ) -> Settings:
        """The settings the environment sets; the others take their defaults."""
        values: dict[str, Any] = {}
        for spec in dataclasses.fields(cls):
            text = environ.get(spec.name.upper())
            if text is not None:
                values[spec.name] = _read(spec.name.upper(), text, spec.type)
        return cls(**values)

    @classmethod
    def descriptions(cls) -> dict[str, str]:
        """Each environment variable and what it sets (for the README and the template's tests)."""
        return {spec.name.upper(): spec.metadata["description"] for spec in dataclasses.fields(cls)}

    @property
    def endpoint_url(self) -> str | None:
        return self.capture_aws_endpoint_url or None

    @property
    def parse_budget_bytes(self) -> int:
        # 35 % leaves room for the interpreter, the body, the stored lines and the request to
        # Firehose within 60 % of the function's memory (bench/worst_case.py measures it).
        megabytes = self.max_parse_memory_mb or self.aws_lambda_function_memory_size * 35 // 100
        return megabytes * MIB


def _read(name: str, text: str, kind: Any) -> Any:
    # With `from __future__ import annotations`, a field's type is its annotation's text.
    value = text.strip()
    try:
        if kind == "bool":
            if value.lower() not in _TRUE | _FALSE:
                raise ValueError(value)
            return value.lower() in _TRUE
        if kind == "int":
            return int(value)
        if kind == "float":
            return float(value)
    except ValueError as error:
        raise ValueError(f"{name} must be a {kind}, not {text!r}") from error
    return text


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The container's settings, read from the environment on first use."""
    return Settings.from_environment()
