"""A capture app wired to in-memory fakes, and a way to call it with API Gateway events."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver
from capture_core.api.resolver import create_resolver
from capture_core.api.routes import BATCH_PATHS, CAPTURE_PATHS, CONFIG_PATHS, CONFIG_PREFIXES
from capture_core.auth.keys import KeyStore
from capture_core.lanes import capture_v0, remote_config, static_assets
from capture_core.lanes.capture_v0 import CaptureV0, utc_now
from capture_core.settings import Settings
from capture_core.sink.firehose import EventSink, MemorySink
from capture_local.lambda_context import lambda_context
from capture_local.rest_event import build_rest_event

from support.fakes import FakeKeyTable

DEMO_TOKEN = "phc_test_token"


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: str

    def json(self) -> Any:
        return json.loads(self.body)


ASSETS = Path(__file__).resolve().parents[2] / "layers" / "static" / "posthog-js"


@dataclass
class CaptureApp:
    """Every function's routes over one key store, a memory sink and a fake key table."""

    sink: EventSink = field(default_factory=MemorySink)
    table: FakeKeyTable = field(default_factory=lambda: FakeKeyTable.with_project(DEMO_TOKEN, 1))
    clock: Callable[[], datetime] = utc_now
    settings: Settings = field(default_factory=Settings)
    monotonic: Callable[[], float] = time.monotonic  # the clock the request's time budget runs on
    request_ids: Callable[[], str] = lambda: str(uuid.uuid4())  # flags answers' requestId
    assets: Path = ASSETS

    def __post_init__(self) -> None:
        keys = KeyStore(self.table, "keys", ttl_seconds=60)
        lane = CaptureV0(self.settings, keys, self.sink, clock=self.clock)
        self.apps: dict[str, APIGatewayRestResolver] = {}
        for function, paths in (("capture", CAPTURE_PATHS), ("batch", BATCH_PATHS)):
            app = self.apps[function] = create_resolver(paths)
            capture_v0.add_routes(app, lane, paths, self.settings, clock=self.monotonic)
        config = self.apps["config"] = create_resolver(CONFIG_PATHS, prefixes=CONFIG_PREFIXES)
        wall_clock = lambda: self.clock().timestamp()  # noqa: E731
        remote_config.add_routes(
            config,
            remote_config.RemoteConfig(
                self.settings,
                keys,
                clock=wall_clock,
                **({"request_ids": self.request_ids} if self.request_ids else {}),
            ),
            self.settings,
        )
        static_assets.add_routes(config, static_assets.StaticAssets(self.assets), self.settings)

    @staticmethod
    def function_for(path: str) -> str:
        """Which function API Gateway sends `path` to (template.yaml's routes)."""
        if path.rstrip("/") in BATCH_PATHS:
            return "batch"
        if path.rstrip("/") in CONFIG_PATHS or path.startswith(CONFIG_PREFIXES):
            return "config"
        return "capture"

    def invoke(self, event: Mapping[str, Any], timeout_s: float = 15.0) -> Answer:
        function = self.function_for(event["path"])
        result = self.apps[function].resolve(dict(event), lambda_context(function, timeout_s=timeout_s))
        headers = {name: values[-1] for name, values in (result.get("multiValueHeaders") or {}).items()}
        headers.update(result.get("headers") or {})
        return Answer(result["statusCode"], headers, result.get("body") or "")

    def request(
        self,
        method: str,
        path: str,
        body: bytes | str | None = None,
        *,
        headers: Mapping[str, str] | Sequence[tuple[str, str]] = (),
        query: str = "",
        source_ip: str = "198.51.100.7",
    ) -> Answer:
        return self.invoke(build_rest_event(method, path, None, headers, query, body, source_ip))

    def stored(self) -> list[dict[str, Any]]:
        assert isinstance(self.sink, MemorySink)
        return [json.loads(line) for record in self.sink.records for line in record.splitlines()]
