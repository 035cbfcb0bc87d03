"""The whole local stack in this process: moto, the template's resources, the functions and the
API in front of them. `LocalStack` is what `python -m capture_local dev` and the tests run."""

from __future__ import annotations

from contextlib import ExitStack
from pathlib import Path
from types import TracebackType
from typing import Any

from capture_local import aws
from capture_local.functions import function_specs, shared_environment
from capture_local.gateway import Gateway
from capture_local.gateway_responses import GatewayResponses
from capture_local.handlers import load_function
from capture_local.http_server import GatewayHttpServer
from capture_local.names import (
    ACCOUNT_ID,
    DEFAULT_MOTO_PORT,
    DEFAULT_PORT,
    DEFAULT_REGION,
    DEFAULT_TEMPLATE,
    DEMO_KEY_NAME,
    DEMO_PROJECT_ID,
    DEMO_TOKEN,
    ENDPOINT_VARIABLE,
    LOCAL_PARAMETERS,
    STAGE,
)
from capture_local.provisioning import (
    LocalResources,
    create_bucket,
    create_stream,
    create_table,
    seed_project_key,
    stream_prefix,
)
from capture_local.routing import RouteTable
from capture_local.stored_events import stored_events
from capture_local.template import Template

API_TYPE = "AWS::Serverless::Api"


def _binary_media_types(template: Template) -> tuple[str, ...]:
    apis = template.logical_ids_of_type(API_TYPE)
    if not apis:
        return ()
    return tuple(str(media_type) for media_type in template.properties(apis[0]).get("BinaryMediaTypes", ()))


def _refs(template: Template, local: LocalResources, region: str) -> dict[str, str]:
    return {
        **template.parameter_defaults(),
        **LOCAL_PARAMETERS,
        **local.refs(),
        "AWS::Region": region,
        "AWS::AccountId": ACCOUNT_ID,
        "AWS::Partition": "aws",
        "AWS::URLSuffix": "amazonaws.com",
        "AWS::StackName": "capture-local",
    }


class LocalStack:
    """moto plus the API, started on `__enter__` (or `start()`) and stopped on exit.

    Ports 0 pick free ones (read them back from `api_url` and `moto_url`). With `serve_api=False`
    only moto and the resources start, for `sam local start-api` to use.
    """

    def __init__(
        self,
        port: int = DEFAULT_PORT,
        moto_port: int = DEFAULT_MOTO_PORT,
        token: str = DEMO_TOKEN,
        *,
        host: str = "127.0.0.1",
        moto_host: str = "127.0.0.1",
        region: str = DEFAULT_REGION,
        template_path: Path = DEFAULT_TEMPLATE,
        serve_api: bool = True,
        access_log: bool = True,
    ) -> None:
        self.template = Template.load(template_path)
        self.resources = LocalResources.from_template(self.template)
        self.token = token
        self.project_id = DEMO_PROJECT_ID
        self.region = region
        self._host = host
        self._port = port
        self._moto_host = moto_host
        self._moto_port = moto_port
        self._serve_api = serve_api
        self._access_log = access_log
        self._exit = ExitStack()
        self._moto: aws.MotoServer | None = None
        self._api: GatewayHttpServer | None = None
        self._clients: dict[str, Any] = {}

    # Lifecycle

    def __enter__(self) -> LocalStack:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def start(self) -> LocalStack:
        try:
            self._start_moto()
            self.provision()
            if self._serve_api:
                self._start_api()
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        self._exit.close()
        self._api = None
        self._moto = None
        self._clients.clear()

    def _start_moto(self) -> None:
        moto = aws.MotoServer(self._moto_host, self._moto_port)
        moto.start()
        self._exit.callback(moto.stop)
        self._moto = moto
        self._exit.enter_context(aws.environment(aws.aws_environment(self.region), aws.SHADOWING_VARIABLES))

    def function_environment(self) -> dict[str, str]:
        """The environment the template gives the functions, resolved to the local resources."""
        specs = function_specs(self.template)
        return {
            **shared_environment(specs, _refs(self.template, self.resources, self.region)),
            ENDPOINT_VARIABLE: self.moto_url,
            # No X-Ray daemon runs locally.
            "POWERTOOLS_TRACE_DISABLED": "true",
        }

    def _start_api(self) -> None:
        environment = self.function_environment()
        self._exit.enter_context(aws.environment(environment))
        specs = function_specs(self.template)
        functions = {spec.logical_id: load_function(spec, self.region) for spec in specs}
        routes = RouteTable.of(route for function in functions.values() for route in function.spec.routes)
        gateway = Gateway(
            routes,
            functions,
            GatewayResponses.from_template(self.template),
            stage=STAGE,
            binary_media_types=_binary_media_types(self.template),
        )
        try:
            api = GatewayHttpServer((self._host, self._port), gateway, access_log=self._access_log)
        except OSError as error:
            where = f"{self._host}:{self._port} ({error.strerror})"
            raise OSError(f"cannot serve the API on {where}; set PORT to a free port") from error
        api.start()
        self._exit.callback(api.stop)
        self._api = api

    # Resources

    def provision(self) -> None:
        """Create the table, bucket and stream and seed the demo key; harmless when they exist."""
        local, dynamodb = self.resources, self.client("dynamodb")
        create_table(dynamodb, local.table_name, self.template.properties(local.table_id))
        create_bucket(self.client("s3"), local.bucket_name, self.region)
        stream = self.template.properties(local.stream_id)
        create_stream(self.client("firehose"), local.stream_name, stream, local.bucket_name)
        seed_project_key(
            dynamodb,
            table_name=self.resources.table_name,
            token=self.token,
            project_id=self.project_id,
            name=DEMO_KEY_NAME,
        )

    def client(self, service: str) -> Any:
        """A client of this stack's moto server (made once: building one costs a tenth of a second)."""
        if service not in self._clients:
            self._clients[service] = aws.client(service, self.moto_url, self.region)
        return self._clients[service]

    def read_events(self) -> list[dict[str, Any]]:
        """Every event stored in the bucket so far, oldest object first."""
        return stored_events(self.client("s3"), self.resources.bucket_name)

    # Addresses

    @property
    def moto_port(self) -> int:
        if self._moto is None:
            raise RuntimeError("the local stack is not running")
        return self._moto.port

    @property
    def moto_listen_address(self) -> str:
        return f"{self._moto_host}:{self.moto_port}"

    @property
    def moto_url(self) -> str:
        if self._moto is None:
            raise RuntimeError("the local stack is not running")
        return self._moto.url

    @property
    def api_url(self) -> str:
        if self._api is None:
            raise RuntimeError("the local API is not running")
        return f"http://{self._host}:{self._api.port}"

    @property
    def events_prefix(self) -> str:
        """Where in the bucket the stream writes (moto adds YYYY/MM/DD/HH/ below it)."""
        return stream_prefix(self.template.properties(self.resources.stream_id))

    @property
    def routes(self) -> list[tuple[str, str, str]]:
        """(resource, method, function) of every route the API serves."""
        specs = function_specs(self.template)
        return [(route.resource, route.method, route.function) for spec in specs for route in spec.routes]
