"""`python -m capture_local dev | moto | events | recordings | sam-env`: the Makefile's local targets."""

import argparse
import json
import os
import signal
import sys
import threading
from collections.abc import Sequence
from pathlib import Path

from botocore.exceptions import BotoCoreError, ClientError

from capture_local import aws, faults, live, names, samples, state
from capture_local.functions import function_specs
from capture_local.stack import LocalStack
from capture_local.template import Template, TemplateError, resolve

TRY = """Try:
  curl -X POST {url}/capture/ -d '{{"api_key":"{token}","event":"hi","distinct_id":"u1"}}'
  make events"""
SAM = """Then (with fake credentials: sam hands the host's to the functions):
  sam build && AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing \\
    sam local start-api --env-vars local/sam-env.json --add-host host.docker.internal:host-gateway"""


def _banner(stack: LocalStack, overrides: dict[str, str]) -> str:
    resources, routes = stack.resources, [f"{'':12}{m} {p:<12} -> {f}" for p, m, f in stack.routes]
    lines = [f"API         {stack.api_url}  (stage {names.STAGE})", *routes] if stack.serve_api else []
    if stack.serve_api:
        lines += [f"live events {stack.api_url}{live.PAGE_PATH}  (local only)"]
    lines += [f"moto        {stack.moto_url}  (on {stack.moto_listen_address}, region {stack.region})"]
    lines += [f"table       {resources.table_name}"]
    lines += [f"stream      {s.name} -> s3://{s.bucket_name}/{s.prefix}" for s in resources.streams.values()]
    lines += [f"demo token  {stack.token}  (project {stack.project_id})"]
    if stack.data is not None:
        items, objects = stack.restored
        where = os.path.relpath(stack.data.folder, Path.cwd())
        lines += [f"data        {where}: {items} items and {objects} objects kept (make reset starts clean)"]
    else:
        lines += ["data        in memory only: gone when this stops"]
    lines += [f"setting     {name}={value}" for name, value in sorted(overrides.items())]
    lines += [f"fault       {fault}" for fault in faults.FAULTS.describe()]
    if stack.parameters.get("FloodRateLimit", "0") != "0":
        limit, window = stack.parameters["FloodRateLimit"], stack.parameters.get("FloodRateWindowSeconds")
        lines += [f"flood       past {limit} requests in {window} s, an address is answered 429"]
    hint = TRY.format(url=stack.api_url, token=stack.token) if stack.serve_api else SAM
    return "\n".join([*lines, "", hint, "", "Ctrl-C stops."])


def serve(arguments: argparse.Namespace) -> int:
    """`dev` (the API and moto) or `moto` (moto alone), until Ctrl-C or SIGTERM, with the state
    file saying where meanwhile, for `make events` and `capture-keys --local`."""
    serve_api, environ = arguments.command == "dev", os.environ
    # A function setting given here (KEY_CACHE_TTL_SECONDS=2) overrides the template's: a revocation
    # then shows in seconds.
    settings = {name for spec in function_specs(Template.load(arguments.template)) for name in spec.settings}
    overrides = {name: value for name, value in environ.items() if name in settings}
    stack = LocalStack(
        int(environ.get("PORT") or names.DEFAULT_PORT),
        int(environ.get("MOTO_PORT") or names.DEFAULT_MOTO_PORT),
        environ.get("CAPTURE_DEMO_TOKEN") or names.DEMO_TOKEN,
        # sam's containers reach the host through the Docker bridge, not its loopback: moto alone
        # listens on every interface unless told otherwise.
        moto_host="127.0.0.1" if serve_api else environ.get("MOTO_HOST") or "0.0.0.0",  # noqa: S104
        region=environ.get("AWS_DEFAULT_REGION") or names.DEFAULT_REGION,
        template_path=arguments.template,
        serve_api=serve_api,
        verbose=arguments.verbose or environ.get("CAPTURE_LOCAL_VERBOSE", "") not in {"", "0"},
        overrides=overrides,
        data_dir=None if arguments.memory else names.DATA_DIR,
        parameters={
            name: value
            for name, value in (
                ("FloodRateLimit", arguments.flood_rate_limit or environ.get("FLOOD_RATE_LIMIT")),
                ("FloodRateWindowSeconds", environ.get("FLOOD_RATE_WINDOW_SECONDS")),
            )
            if value
        },
    )
    # `make dev FIREHOSE=throttle` (or fail), `S3=fail`: watch the direct path take over.
    faults.FAULTS.set(
        arguments.firehose or environ.get("CAPTURE_LOCAL_FIREHOSE", ""),
        arguments.s3 or environ.get("CAPTURE_LOCAL_S3", ""),
    )
    stopping = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda signum, frame: stopping.set())
    with stack:
        state.write(stack.api_url if serve_api else None, stack.moto_url)
        try:
            print(_banner(stack, overrides), flush=True)
            stopping.wait()
            print("\nstopping", flush=True)
        finally:
            state.remove()
    return 0


def stored(arguments: argparse.Namespace) -> int:
    """`events` or `recordings`: what that stream stored, one JSON object per line."""
    resources = aws.LocalResources.from_template(Template.load(arguments.template))
    stream = resources.stream(
        names.EVENTS_STREAM_ID if arguments.command == "events" else names.RECORDINGS_STREAM_ID
    )
    try:
        for line in stream.stored_lines(aws.client("s3", state.moto_endpoint(), names.DEFAULT_REGION)):
            print(line)
    except (BotoCoreError, ClientError, state.NotRunning) as error:
        print(f"capture-local: cannot read the stored {arguments.command}: {error}", file=sys.stderr)
        return 1
    return 0


def sample(arguments: argparse.Namespace) -> int:
    """`sample NAME`: send events/NAME.json to the running stack; print its status and answer."""
    try:
        running = state.read()
        if running is None or not running.get("api_url"):
            raise state.NotRunning
        status, body = samples.send(str(running["api_url"]), arguments.name)
    except (state.NotRunning, OSError) as error:
        print(f"capture-local: {error}", file=sys.stderr)
        return 1
    print(status)
    if body:
        print(body)
    return 0 if status < 500 else 1


def sam_env_json(template: Template, moto_port: int = names.DEFAULT_MOTO_PORT) -> str:
    """`local/sam-env.json`, `sam local start-api --env-vars`: per function, what differs locally of
    the variables the template declares (SAM overrides no others): resource names, and the endpoint,
    moto on the host (host.docker.internal: Docker Desktop's name; on Linux, sam needs --add-host)."""
    refs, document = aws.LocalResources.from_template(template).refs(), {}
    for spec in function_specs(template):
        named = [n for n, v in spec.variables.items() if isinstance(v, dict) and v.get("Ref") in refs]
        variables = {name: resolve(spec.variables[name], refs, f"{spec.logical_id}.{name}") for name in named}
        variables[names.ENDPOINT_VARIABLE] = f"http://host.docker.internal:{moto_port}"
        document[spec.logical_id] = dict(sorted(variables.items()))
    return json.dumps(document, indent=2) + "\n"


def sam_env(arguments: argparse.Namespace) -> int:
    print(sam_env_json(Template.load(arguments.template)), end="")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="capture-local", description=__doc__)
    parser.add_argument("--template", type=Path, default=names.DEFAULT_TEMPLATE, help="the SAM template")
    parser.set_defaults(run=serve, verbose=False, firehose="", s3="", flood_rate_limit=None, memory=False)
    commands = parser.add_subparsers(dest="command", required=True)
    dev = commands.add_parser("dev", help="run the API on PORT (3000) with moto on MOTO_PORT (5000)")
    dev.add_argument("--verbose", action="store_true", help="print the functions' log and metric lines too")
    dev.add_argument("--memory", action="store_true", help="keep nothing across restarts (no data folder)")
    dev.add_argument(
        "--firehose",
        choices=[name for name in faults.FIREHOSE_FAULTS if name],
        help="make Firehose throttle or fail every call (the direct path to S3 takes the events)",
    )
    dev.add_argument(
        "--s3", choices=[name for name in faults.S3_FAULTS if name], help="make S3 fail the functions' writes"
    )
    dev.add_argument(
        "--flood-rate-limit",
        help="answer an address 429 rate_limited past this many requests in FLOOD_RATE_WINDOW_SECONDS (300)",
    )
    commands.add_parser("moto", help="run moto with the resources only, for sam local")
    for lane in ("events", "recordings"):
        commands.add_parser(lane, help=f"print the stored {lane}, one JSON per line").set_defaults(run=stored)
    commands.add_parser("sam-env", help="print local/sam-env.json").set_defaults(run=sam_env)
    sample_command = commands.add_parser(
        "sample", help="send events/NAME.json to the running stack over HTTP"
    )
    sample_command.add_argument(
        "name", help="a file of events/, without .json (capture_json, e_gzip_text_plain…)"
    )
    sample_command.set_defaults(run=sample)
    arguments = parser.parse_args(argv)
    try:
        return int(arguments.run(arguments))
    except (OSError, TemplateError, ValueError) as error:
        print(f"capture-local: {error}", file=sys.stderr)
        return 1
