"""`python -m capture_local dev | moto | events | sam-env`: the Makefile's local targets."""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from types import FrameType

from botocore.exceptions import BotoCoreError, ClientError

from capture_local import aws, openapi_files
from capture_local.names import (
    BUCKET_NAME,
    DEFAULT_MOTO_PORT,
    DEFAULT_PORT,
    DEFAULT_REGION,
    DEFAULT_TEMPLATE,
    DEMO_TOKEN,
    STAGE,
)
from capture_local.sam_env import sam_env_json
from capture_local.stack import LocalStack
from capture_local.stored_events import stored_lines
from capture_local.template import Template, TemplateError


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "")
    return int(value) if value.strip() else default


def _region() -> str:
    return os.environ.get("AWS_DEFAULT_REGION") or DEFAULT_REGION


def _wait_for_stop_signal() -> None:
    """Block until Ctrl-C or SIGTERM (what `docker stop`, process managers and `kill` send)."""
    stopping = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stopping.set()

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    while not stopping.wait(0.5):
        pass


def _describe(stack: LocalStack, serve_api: bool) -> str:
    resources = stack.resources
    lines = []
    if serve_api:
        lines.append(f"API         {stack.api_url}  (stage {STAGE})")
        lines += [f"{'':14}{method:<4} {path:<12} -> {function}" for path, method, function in stack.routes]
    lines += [
        f"moto        {stack.moto_url}  (listening on {stack.moto_listen_address}, region {stack.region})",
        f"table       {resources.table_name}",
        f"stream      {resources.stream_name} -> s3://{resources.bucket_name}/{stack.events_prefix}",
        f"demo token  {stack.token}  (project {stack.project_id})",
        "",
    ]
    if serve_api:
        port = stack.api_url.rsplit(":", 1)[1]
        body = f'{{"api_key":"{stack.token}","event":"hi","distinct_id":"u1"}}'
        lines += ["Try:", f"  curl -X POST localhost:{port}/capture/ -d '{body}'", "  make events", ""]
    else:
        lines += [
            "Then (with fake credentials: sam hands the host's to the functions):",
            "  sam build && AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing \\",
            "    sam local start-api --env-vars local/sam-env.json \\",
            "    --add-host host.docker.internal:host-gateway  # on Linux",
            "",
        ]
    lines.append("Ctrl-C stops.")
    return "\n".join(lines)


def _serve(stack: LocalStack, serve_api: bool) -> int:
    with stack:
        print(_describe(stack, serve_api), flush=True)
        _wait_for_stop_signal()
        print("\nstopping", flush=True)
    return 0


def dev(arguments: argparse.Namespace) -> int:
    stack = LocalStack(
        port=_env_int("PORT", DEFAULT_PORT),
        moto_port=_env_int("MOTO_PORT", DEFAULT_MOTO_PORT),
        token=os.environ.get("CAPTURE_DEMO_TOKEN") or DEMO_TOKEN,
        region=_region(),
        template_path=arguments.template,
    )
    return _serve(stack, serve_api=True)


def moto(arguments: argparse.Namespace) -> int:
    # sam's containers reach the host through the Docker bridge, not its loopback: listen on all
    # interfaces unless told otherwise.
    stack = LocalStack(
        moto_port=_env_int("MOTO_PORT", DEFAULT_MOTO_PORT),
        moto_host=os.environ.get("MOTO_HOST") or "0.0.0.0",  # noqa: S104
        token=os.environ.get("CAPTURE_DEMO_TOKEN") or DEMO_TOKEN,
        region=_region(),
        template_path=arguments.template,
        serve_api=False,
    )
    return _serve(stack, serve_api=False)


def events(arguments: argparse.Namespace) -> int:
    endpoint = f"http://127.0.0.1:{_env_int('MOTO_PORT', DEFAULT_MOTO_PORT)}"
    s3 = aws.client("s3", endpoint, _region())
    try:
        for line in stored_lines(s3, BUCKET_NAME):
            print(line)
    except (BotoCoreError, ClientError) as error:
        print(f"cannot read s3://{BUCKET_NAME} on {endpoint}: {error}", file=sys.stderr)
        print("Is the local stack running (make dev)?", file=sys.stderr)
        return 1
    return 0


def sam_env(arguments: argparse.Namespace) -> int:
    sys.stdout.write(sam_env_json(Template.load(arguments.template)))
    return 0


def openapi(arguments: argparse.Namespace) -> int:
    return openapi_files.main()


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="capture-local", description=__doc__)
    root.add_argument("--template", type=Path, default=DEFAULT_TEMPLATE, help="the SAM template to emulate")
    commands = root.add_subparsers(dest="command", required=True)
    commands.add_parser("dev", help="run the API on PORT (3000) with moto on MOTO_PORT (5000)").set_defaults(
        run=dev
    )
    commands.add_parser("moto", help="run moto with the resources only, for sam local").set_defaults(run=moto)
    commands.add_parser("events", help="print the stored events, one JSON per line").set_defaults(run=events)
    commands.add_parser("sam-env", help="print local/sam-env.json").set_defaults(run=sam_env)
    commands.add_parser("openapi", help="write openapi.json and schemas/").set_defaults(run=openapi)
    return root


def main(argv: Sequence[str] | None = None) -> int:
    arguments = parser().parse_args(argv)
    try:
        return int(arguments.run(arguments))
    except (OSError, TemplateError) as error:
        print(f"capture-local: {error}", file=sys.stderr)
        return 1
