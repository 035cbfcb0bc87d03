"""Each function's resolver, built from its settings: the lanes it serves, composed from the
stages, and the only place AWS clients are made (once per container)."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from pathlib import Path
from typing import Any

import boto3
from aws_lambda_powertools.event_handler import APIGatewayRestResolver
from botocore.config import Config

from capture_core.api.resolver import create_resolver
from capture_core.api.routes import (
    BATCH_PATHS,
    CAPTURE_PATHS,
)
from capture_core.auth.keys import KeyStore
from capture_core.events.cookieless import Cookieless
from capture_core.events.cookieless_salts import CookielessSalts
from capture_core.lanes import capture_v0, health, shared
from capture_core.lanes.health import Health
from capture_core.settings import Settings
from capture_core.sink import direct, firehose
from capture_core.sink.delivery import Delivery, EventSink
from capture_core.sink.timing import Pacing, TimeBoundClients

_DYNAMODB_CONFIG = Config(
    connect_timeout=1, read_timeout=2, retries={"total_max_attempts": 2, "mode": "standard"}
)
# The health check's describe calls: one attempt, so a slow dependency shows as a failed check.
_HEALTH_CONFIG = Config(connect_timeout=1, read_timeout=2, retries={"total_max_attempts": 1})


class Aws:
    """The container's AWS clients. Credentials and region are resolved once, when it is made: a
    client made later (a shorter-timeout Firehose client near a deadline) never depends on the
    environment at that moment."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._session = boto3.session.Session()
        self._session.get_credentials()
        self._region = self._session.region_name

    def client(self, service: str, config: Config) -> Any:
        return self._session.client(
            service, region_name=self._region, endpoint_url=self._settings.endpoint_url, config=config
        )

    def time_bound_clients(
        self,
        service: str,
        timeouts: tuple[tuple[float, float], ...],
        prepare: Callable[[Any], None] | None = None,
    ) -> TimeBoundClients:
        """Clients of `service` by timeout, for the writers that retry on their own (Firehose, the
        direct path to S3), within the request's time budget: botocore's retries would spend that
        budget without them knowing, so they are off. `prepare` is given each client made."""

        def make(connect_timeout: float, read_timeout: float) -> Any:
            config = Config(
                connect_timeout=connect_timeout,
                read_timeout=read_timeout,
                retries={"total_max_attempts": 1, "mode": "standard"},
                # A local endpoint (moto) has no bucket subdomains.
                s3={"addressing_style": "path"} if self._settings.endpoint_url else None,
            )
            client = self.client(service, config)
            if prepare is not None:
                prepare(client)
            return client

        return TimeBoundClients(make, timeouts)

    @cached_property
    def dynamodb(self) -> Any:
        return self.client("dynamodb", _DYNAMODB_CONFIG)

    def keys(self) -> KeyStore:
        return KeyStore(
            self.dynamodb,
            self._settings.api_keys_table_name,
            ttl_seconds=self._settings.key_cache_ttl_seconds,
            max_size=self._settings.key_cache_max_size,
        )

    def cookieless(self) -> Cookieless:
        """Cookieless ids, with the daily salts kept in the key table."""
        return Cookieless(CookielessSalts(self.dynamodb, self._settings.api_keys_table_name).for_day)


@dataclass
class Runtime:
    """What the lanes need from the world: the key store, a sink per stream, clocks. On Lambda
    they come from AWS (`aws_runtime`); tests give in-memory ones to the same builders."""

    keys: KeyStore
    sink: Callable[[str], EventSink]
    now: Callable[[], datetime] = shared.utc_now
    monotonic: Callable[[], float] = time.monotonic
    request_ids: Callable[[], str] = field(default=lambda: str(uuid.uuid4()))
    health: Health | None = None  # without it, the capture function serves no /_health
    cookieless: Cookieless | None = None  # without it, cookieless events keep the ids they carry


def aws_runtime(settings: Settings) -> Runtime:
    """The container's runtime: one key store, and Firehose and S3 clients made once, shared by its
    sinks (one per stream)."""
    aws = Aws(settings)
    firehose_clients = aws.time_bound_clients(
        "firehose", firehose.CALL_TIMEOUTS, prepare=firehose.write_records_directly
    )
    # The usual Firehose client is made at cold start, as the DynamoDB one; S3's only when the
    # direct path is first taken (a rare request, whose time keeps room for it).
    firehose_clients.within(float("inf"))
    s3_clients = aws.time_bound_clients("s3", direct.CALL_TIMEOUTS)
    prefixes = {
        settings.events_stream_name: settings.events_prefix,
        settings.recordings_stream_name: settings.recordings_prefix,
    }

    def sink(stream_name: str) -> EventSink:
        return Delivery(
            firehose.FirehoseStream(Pacing(firehose_clients, settings.firehose_budget_seconds), stream_name),
            direct.DirectPath(
                Pacing(s3_clients, settings.direct_path_budget_seconds),
                settings.events_bucket_name,
                prefixes[stream_name],
                stream_name,
            ),
        )

    checks = health.stack_checks(settings)
    return Runtime(
        keys=aws.keys(),
        sink=sink,
        health=Health(lambda service: aws.client(service, _HEALTH_CONFIG), checks),
        cookieless=aws.cookieless(),
    )


def capture_function(
    settings: Settings, runtime: Runtime | None = None, *, documented: bool = False
) -> APIGatewayRestResolver:
    """Browsers' events, and the stack's health check. Unknown paths reach this function too, so
    it also serves the whole API's docs (when `serve_openapi` is on)."""
    runtime = runtime or aws_runtime(settings)
    app = create_resolver(base_path=settings.api_base_path, documented=documented)
    lane = capture_v0.CaptureV0(
        settings,
        runtime.keys,
        runtime.sink(settings.events_stream_name),
        clock=runtime.now,
        cookieless=runtime.cookieless,
    )
    capture_v0.add_routes(app, lane, CAPTURE_PATHS, settings, clock=runtime.monotonic)
    if runtime.health is not None:
        health.add_routes(app, runtime.health)
    if settings.serve_openapi and not documented:
        # Imported here: only a stack that serves its docs pays for the document's models.
        from capture_core.docs.openapi import add_docs_routes  # noqa: PLC0415

        add_docs_routes(app, lambda: documented_apps(settings, runtime))
    return app


def batch_function(
    settings: Settings, runtime: Runtime | None = None, *, documented: bool = False
) -> APIGatewayRestResolver:
    """Server SDKs' batches, v0 and v1 (one stream, one key store)."""
    # Each function imports the lanes it serves where it builds them: a cold start pays for no other.
    from capture_core.lanes import capture_v1  # noqa: PLC0415

    runtime = runtime or aws_runtime(settings)
    app = create_resolver(capture_v1.v1_errors(), base_path=settings.api_base_path, documented=documented)
    sink = runtime.sink(settings.events_stream_name)
    v0 = capture_v0.CaptureV0(settings, runtime.keys, sink, clock=runtime.now, cookieless=runtime.cookieless)
    capture_v0.add_routes(app, v0, BATCH_PATHS, settings, clock=runtime.monotonic)
    v1 = capture_v1.CaptureV1(settings, runtime.keys, sink, clock=runtime.now, cookieless=runtime.cookieless)
    capture_v1.add_routes(app, v1, settings, clock=runtime.monotonic)
    return app


def config_function(
    settings: Settings, runtime: Runtime | None = None, *, documented: bool = False
) -> APIGatewayRestResolver:
    """What the SDKs ask besides capture: remote config, flags, decide, posthog-js's scripts, the
    product APIs. It reads keys and files only, so it needs no Firehose and little memory."""
    from capture_core.lanes import product_apis, remote_config, static_assets  # noqa: PLC0415

    runtime = runtime or Runtime(keys=Aws(settings).keys(), sink=_no_sink)
    app = create_resolver(base_path=settings.api_base_path, documented=documented)
    lane = remote_config.RemoteConfig(
        settings,
        runtime.keys,
        recordings=True,
        clock=lambda: runtime.now().timestamp(),
        request_ids=runtime.request_ids,
    )
    assets = static_assets.StaticAssets(Path(settings.static_assets_dir))

    def sdk_script() -> Path | None:
        asset = assets.find("array.js", None)
        return asset.path if asset is not None else None

    remote_config.add_routes(app, lane, settings, sdk_script)
    static_assets.add_routes(app, assets, settings)
    product_apis.add_routes(app, product_apis.ProductApis(runtime.keys), settings)
    return app


def recordings_function(
    settings: Settings, runtime: Runtime | None = None, *, documented: bool = False
) -> APIGatewayRestResolver:
    """Session recordings, to a stream of their own."""
    from capture_core.lanes import recordings  # noqa: PLC0415

    runtime = runtime or aws_runtime(settings)
    app = create_resolver(base_path=settings.api_base_path, documented=documented)
    sink = runtime.sink(settings.recordings_stream_name)
    lane = recordings.Recordings(settings, runtime.keys, sink, clock=runtime.now)
    recordings.add_routes(app, lane, settings, clock=runtime.monotonic)
    return app


def usage_function(settings: Settings) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """The usage counter: each object the streams deliver, counted into its project's month (an
    EventBridge "Object Created" event from S3 per object)."""
    from capture_core.auth.quotas import EVENTS, RECORDINGS  # noqa: PLC0415
    from capture_core.usage import counter  # noqa: PLC0415
    from capture_core.usage.ledger import Ledger  # noqa: PLC0415

    aws = Aws(settings)
    s3_config = Config(
        connect_timeout=2,
        read_timeout=20,
        retries={"total_max_attempts": 3, "mode": "standard"},
        s3={"addressing_style": "path"} if settings.endpoint_url else None,
    )
    usage = counter.UsageCounter(
        Ledger(aws.dynamodb, settings.api_keys_table_name, settings.usage_table_name),
        aws.client("s3", s3_config),
        {
            counter.static_prefix(settings.events_prefix): EVENTS,
            counter.static_prefix(settings.recordings_prefix): RECORDINGS,
        },
        counter.sns_notifier(aws.client("sns", _DYNAMODB_CONFIG), settings.alarm_topic_arn),
    )

    def count(event: dict[str, Any]) -> dict[str, Any]:
        created = counter.created_object(event)
        if created is None:
            return {"lane": None}
        return usage.count_object(created.bucket, created.key, created.when)

    return count


def _no_sink(stream_name: str) -> EventSink:
    raise RuntimeError("the config function stores nothing")


FUNCTIONS: dict[str, Callable[..., APIGatewayRestResolver]] = {
    "capture": capture_function,
    "batch": batch_function,
    "config": config_function,
    "recordings": recordings_function,
}


def documented_apps(settings: Settings, runtime: Runtime | None = None) -> list[APIGatewayRestResolver]:
    """Every function's resolver, built to be documented: the OpenAPI document merges them."""
    return [build(settings, runtime, documented=True) for build in FUNCTIONS.values()]
