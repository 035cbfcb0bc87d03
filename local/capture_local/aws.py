"""moto as the local AWS: its server, the process environment that points at it, and clients."""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import boto3
from botocore.config import Config

from capture_local.names import FAKE_CREDENTIALS

# Variables that would send boto3 elsewhere than the fake credentials: a named profile that may
# not exist here, or a global endpoint override.
SHADOWING_VARIABLES = ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ENDPOINT_URL")


@contextmanager
def environment(variables: Mapping[str, str], remove: tuple[str, ...] = ()) -> Iterator[None]:
    """Set (and remove) process environment variables for a while, then put the old values back."""
    previous = {name: os.environ.get(name) for name in (*variables, *remove)}
    os.environ.update(variables)
    for name in remove:
        os.environ.pop(name, None)
    try:
        yield
    finally:
        for name, value in previous.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def aws_environment(region: str) -> dict[str, str]:
    return {**FAKE_CREDENTIALS, "AWS_DEFAULT_REGION": region, "AWS_REGION": region}


def client(service: str, endpoint_url: str, region: str) -> Any:
    """A client of the moto server, with explicit fake credentials: it never reads the user's."""
    return boto3.session.Session().client(
        service,
        endpoint_url=endpoint_url,
        region_name=region,
        aws_access_key_id=FAKE_CREDENTIALS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=FAKE_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        # A local endpoint has no bucket subdomains.
        config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 2}),
    )


class MotoServer:
    """moto's threaded server, in this process: every service on one port, state in memory."""

    def __init__(self, host: str, port: int) -> None:
        from moto.server import ThreadedMotoServer  # noqa: PLC0415 (moto is slow to import)

        # The werkzeug access log of every AWS call would drown the API's own log lines.
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
        self._server = ThreadedMotoServer(ip_address=host, port=port, verbose=False)
        self._host = host
        self.port = port

    def start(self) -> None:
        # moto's server thread would die on a busy port and leave start() waiting forever.
        if self.port:
            with socket.socket() as probe:
                try:
                    probe.bind((self._host, self.port))
                except OSError as error:
                    raise OSError(
                        f"cannot start moto on {self._host}:{self.port} ({error.strerror}); "
                        "set MOTO_PORT to a free port"
                    ) from error
        self._server.start()
        self.port = self._server.get_host_and_port()[1]

    def stop(self) -> None:
        self._server.stop()

    @property
    def url(self) -> str:
        # A server listening on every interface is still reached through the loopback from here.
        host = "127.0.0.1" if self._host in {"0.0.0.0", ""} else self._host  # noqa: S104
        return f"http://{host}:{self.port}"
