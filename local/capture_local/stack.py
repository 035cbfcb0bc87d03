"""The whole local stack in this process: moto, the template's resources, the functions and the
API in front of them; what `python -m capture_local dev` and the tests run. It leaves the process
environment as it found it: each function has its own (see handlers)."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator, Mapping
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

from capture_local import aws, faults, names, notifications
from capture_local.exchanges import Recorder
from capture_local.functions import function_specs
from capture_local.gateway import Gateway
from capture_local.gateway_responses import GatewayResponses
from capture_local.handlers import LocalFunction, load_handler
from capture_local.http_server import ApiServer
from capture_local.live import LivePage, StoredLines
from capture_local.notifications import Notifier, Rule, object_created_line
from capture_local.persistence import LocalData
from capture_local.routing import Route, RouteMap
from capture_local.template import Template
from capture_local.web_acl import FloodRule


class LocalStack:
    """moto plus the API, from `__enter__` (or `start()`) to exit; ports 0 pick free ones (`api_url`,
    `moto_url`, `moto_port`). `serve_api=False` starts moto and the resources only, for `sam local`.
    `log_requests` prints a line per request on stderr, `verbose` the functions' output too;
    `overrides` replace the functions' settings (KEY_CACHE_TTL_SECONDS), never resource names;
    `parameters` the template's parameters (FloodRateLimit). With `data_dir`, the tables and objects
    are kept there across restarts (`persistence`); without, they live in memory only."""

    def __init__(
        self,
        port: int = names.DEFAULT_PORT,
        moto_port: int = names.DEFAULT_MOTO_PORT,
        token: str = names.DEMO_TOKEN,
        *,
        host: str = "127.0.0.1",
        moto_host: str = "127.0.0.1",
        region: str = names.DEFAULT_REGION,
        template_path: Path = names.DEFAULT_TEMPLATE,
        serve_api: bool = True,
        log_requests: bool = True,
        verbose: bool = False,
        overrides: Mapping[str, str] | None = None,
        parameters: Mapping[str, str] | None = None,
        data_dir: Path | None = None,
    ) -> None:
        self.template = Template.load(template_path)
        self.resources = aws.LocalResources.from_template(self.template)
        self.specs = {spec.logical_id: spec for spec in function_specs(self.template)}
        self.routes = [(path, "ANY", name) for name, spec in self.specs.items() for path in spec.resources]
        self.token, self.project_id, self.region = token, names.DEMO_PROJECT_ID, region
        self.serve_api, self.moto_listen_address = serve_api, f"{moto_host}:{moto_port}"
        self._host, self._port, self._moto_host, self._moto_port = host, port, moto_host, moto_port
        self._log_requests, self._verbose, self._overrides = (
            log_requests,
            verbose,
            {**names.LOCAL_SETTINGS, **(overrides or {})},
        )
        self.parameters = {
            **self.template.parameter_defaults(),
            **names.LOCAL_PARAMETERS,
            **(parameters or {}),
        }
        self.api_url, self.moto_url, self.moto_port = "", "", 0  # once started
        self._exit, self._clients = ExitStack(), dict[str, Any]()
        self.data = (
            None
            if data_dir is None
            else LocalData(
                data_dir, list(self.resources.tables.values()), list(self.resources.buckets.values())
            )
        )
        self.restored = (0, 0)  # items and objects put back from `data_dir`
        self._notifiers: list[Notifier] = []
        self._gateway = Gateway(RouteMap(()), {}, GatewayResponses({}))  # replaced when the API starts

    def __enter__(self) -> LocalStack:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def start(self) -> LocalStack:
        try:
            moto = aws.MotoServer(self._moto_host, self._moto_port)
            self._exit.callback(moto.stop)
            self.moto_url, self.moto_port = moto.url, moto.port
            self.moto_listen_address = f"{self._moto_host}:{moto.port}"
            self.resources.create(self.client, self.region)
            if self.data is not None:
                self.restored = self.data.restore(self.client)
                self.data.keep(self.client)
                self._exit.callback(self.data.stop)
            self.resources.seed_key(self.client("dynamodb"), self.token, self.project_id, names.DEMO_KEY_NAME)
            if self.serve_api:
                self._start_api()
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        self._exit.close()
        self._clients.clear()
        self._notifiers.clear()

    def environment(self, function: str) -> dict[str, str]:
        """The process environment `function` runs with: its template variables pointed at the
        local resources, the overrides, and what Lambda sets."""
        refs = {
            **self.template.parameter_defaults(),
            **names.LOCAL_PARAMETERS,
            **self.resources.refs(self.region),
        }
        refs.update({"AWS::Region": self.region, "AWS::AccountId": names.ACCOUNT_ID, "AWS::Partition": "aws"})
        return self.specs[function].environment(refs, self.region, self.moto_url, self._overrides)

    def _start_api(self) -> None:
        functions = {name: load_handler(spec, self.environment(name)) for name, spec in self.specs.items()}
        self._gateway = Gateway(
            RouteMap(Route(path, function) for path, _, function in self.routes),
            {name: LocalFunction(self.specs[name], code, self.region) for name, code in functions.items()},
            GatewayResponses.from_template(self.template),
            binary_media_types=self.template.binary_media_types(),
            log=(lambda line: print(line, file=sys.stderr, flush=True)) if self._log_requests else None,
            verbose=self._verbose,
            web_acl=FloodRule.from_template(self.template, self.parameters),
            live=self._live_page(),
        )
        api = ApiServer(self._host, self._port, self._gateway)
        self._exit.callback(api.stop)
        self.api_url = f"http://{self._host}:{api.port}"
        self._start_notifications(functions)

    def _live_page(self) -> LivePage:
        """The live events page over the streams' bucket, with the template's saved queries."""
        streams = self.resources.streams
        prefixes = {
            stream.prefix: "recording" if "Recordings" in key else "event" for key, stream in streams.items()
        }
        bucket = self.resources.stream().bucket_name
        queries = []
        for logical_id in self.template.logical_ids_of_type("AWS::Athena::NamedQuery"):
            properties = self.template.properties(logical_id)
            queries.append(
                (
                    str(properties["Name"]),
                    str(properties.get("Description", "")),
                    str(properties["QueryString"]),
                )
            )
        lines = StoredLines(self.client("s3"), bucket, prefixes)
        notifications.install()
        notifications.LISTENERS.append(lines.add)
        self._exit.callback(notifications.LISTENERS.remove, lines.add)
        return LivePage(lines, queries)

    def _start_notifications(self, functions: Mapping[str, Any]) -> None:
        """Invoke the functions S3's "Object Created" events reach (the usage counter) for each
        object stored, as EventBridge does on AWS."""
        for name, spec in self.specs.items():
            rules = [
                Rule(self.resources.buckets[bucket], prefixes) for bucket, prefixes in spec.object_created
            ]
            if not rules:
                continue
            function = LocalFunction(spec, functions[name], self.region)

            def invoke(event: dict[str, Any], function: LocalFunction = function) -> None:
                invocation = function.invoke(event, event["id"])
                if self._log_requests:
                    print(object_created_line(event, invocation), file=sys.stderr, flush=True)
                if self._verbose:
                    for line in invocation.output:
                        print(f"    {line}", file=sys.stderr, flush=True)

            notifier = Notifier(rules, invoke, self.region, names.ACCOUNT_ID).start()
            self._notifiers.append(notifier)
            self._exit.callback(notifier.stop)

    def settle(self, timeout: float = 10.0) -> None:
        """Wait until every object stored so far has been counted (what the usage counter does within
        seconds on AWS, after Firehose's buffering)."""
        for notifier in self._notifiers:
            if not notifier.wait_idle(timeout):
                raise TimeoutError(f"the functions of stored objects did not finish in {timeout} s")

    @contextmanager
    def flood_protection(self, **parameters: str) -> Iterator[None]:
        """The template's flood protection with these parameters (`FloodRateLimit="10"`) for the
        duration of a `with` block, counting afresh, then as the stack started."""
        before = self._gateway.web_acl
        self._gateway.web_acl = FloodRule.from_template(self.template, {**self.parameters, **parameters})
        try:
            yield
        finally:
            self._gateway.web_acl = before

    @property
    def faults(self) -> faults.Faults:
        """What this process's moto does wrong now (`with stack.faults.active(firehose="throttle")`)."""
        return faults.FAULTS

    def client(self, service: str) -> Any:
        """A client of this stack's moto server (made once: building one costs a tenth of a second)."""
        if service not in self._clients:
            self._clients[service] = aws.client(service, self.moto_url, self.region)
        return self._clients[service]

    def read_events(self, stream: str = names.EVENTS_STREAM_ID) -> list[dict[str, Any]]:
        """Every event a stream (the events') stored so far, oldest object first."""
        return [json.loads(line) for line in self.resources.stream(stream).stored_lines(self.client("s3"))]

    def read_recordings(self) -> list[dict[str, Any]]:
        return self.read_events(names.RECORDINGS_STREAM_ID)

    @contextmanager
    def recording(self) -> Iterator[Recorder]:
        """A record of every exchange the API answers meanwhile."""
        recorder = Recorder()
        self._gateway.recorders.append(recorder)
        try:
            yield recorder
        finally:
            self._gateway.recorders.remove(recorder)
