"""Builds a function's resolver from its settings: the only place AWS clients are created."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import boto3
from aws_lambda_powertools.event_handler import APIGatewayRestResolver
from botocore.config import Config

from capture_core.api import create_app
from capture_core.keys import KeyStore
from capture_core.openapi import add_docs_routes
from capture_core.pipeline import CapturePipeline
from capture_core.settings import Settings
from capture_core.sink import FirehoseSink, TimeBoundClients

_DYNAMODB_CONFIG = Config(
    connect_timeout=1, read_timeout=2, retries={"total_max_attempts": 2, "mode": "standard"}
)


def build_app(
    paths: Sequence[str], settings: Settings, *, documents: Sequence[str] = ()
) -> APIGatewayRestResolver:
    """The function's resolver for `paths`; with `documents` (the other function's paths) and
    `serve_openapi` on, it also serves the whole API's OpenAPI document and Swagger UI."""

    # Credentials and region are resolved once, now: a client made later (a shorter-timeout
    # Firehose client near a deadline) never depends on the environment at that moment.
    session = boto3.session.Session()
    session.get_credentials()
    region = session.region_name

    def client(service: str, config: Config) -> Any:
        return session.client(service, region_name=region, endpoint_url=settings.endpoint_url, config=config)

    def firehose(connect_timeout: float, read_timeout: float) -> Any:
        # The sink has its own retry policy within the request's time budget; botocore's retries
        # would spend that budget without it knowing, so they are off.
        config = Config(
            connect_timeout=connect_timeout,
            read_timeout=read_timeout,
            retries={"total_max_attempts": 1, "mode": "standard"},
        )
        return client("firehose", config)

    dynamodb = client("dynamodb", _DYNAMODB_CONFIG)
    keys = KeyStore(
        dynamodb,
        settings.api_keys_table_name,
        ttl_seconds=settings.key_cache_ttl_seconds,
        max_size=settings.key_cache_max_size,
    )
    clients = TimeBoundClients(firehose)
    clients.within(float("inf"))  # the usual client is made at cold start, as the DynamoDB one
    sink = FirehoseSink(
        clients, settings.events_stream_name, budget_seconds=settings.sink_time_budget_seconds
    )
    pipeline = CapturePipeline(settings, keys, sink)
    app = create_app(paths, pipeline, settings)
    if documents and settings.serve_openapi:
        add_docs_routes(app, [app, create_app(documents, pipeline, settings)])
    return app
