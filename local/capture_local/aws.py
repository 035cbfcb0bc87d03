"""The local AWS: moto's server in this process, clients of it that never read the user's
credentials, and the template's tables, buckets and Firehose streams on it, each found by its type,
named locally, created from the template's own definition, and read back."""

from __future__ import annotations

import gzip
import logging
import socket
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from itertools import takewhile
from typing import Any

import boto3
from botocore.config import Config
from capture_core.auth.key_items import project_item, project_key_item

from capture_local import delivery
from capture_local.names import (
    ACCOUNT_ID,
    DEFAULT_REGION,
    EVENTS_STREAM_ID,
    FAKE_CREDENTIALS,
    KEYS_TABLE_ID,
    local_name,
)
from capture_local.template import Template, TemplateError


def client(service: str, endpoint_url: str, region: str) -> Any:
    """A client of the moto server, with explicit fake credentials."""
    key, secret = FAKE_CREDENTIALS["AWS_ACCESS_KEY_ID"], FAKE_CREDENTIALS["AWS_SECRET_ACCESS_KEY"]
    session = boto3.session.Session(aws_access_key_id=key, aws_secret_access_key=secret, region_name=region)
    # A local endpoint has no bucket subdomains.
    config = Config(s3={"addressing_style": "path"}, retries={"max_attempts": 2})
    return session.client(service, endpoint_url=endpoint_url, config=config)


class MotoServer:
    """moto's threaded server, started: every service on one port, state in memory."""

    def __init__(self, host: str, port: int) -> None:
        from moto.server import ThreadedMotoServer  # noqa: PLC0415 (moto is slow to import)

        try:  # moto's server thread would die on a busy port and leave start() waiting forever
            socket.create_server((host, port)).close()
        except OSError as error:
            where = f"{host}:{port} ({error.strerror})"
            raise OSError(f"cannot start moto on {where}; set MOTO_PORT to a free port") from error
        # The werkzeug access log of every AWS call would drown the API's own log lines.
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
        self._server = ThreadedMotoServer(ip_address=host, port=port, verbose=False)
        self._server.start()
        self.port = self._server.get_host_and_port()[1]
        # A server listening on every interface is still reached through the loopback from here.
        self.url = f"http://{'127.0.0.1' if host in {'0.0.0.0', ''} else host}:{self.port}"  # noqa: S104

    def stop(self) -> None:
        self._server.stop()


def topic_arn(name: str, region: str) -> str:
    return f"arn:aws:sns:{region}:{ACCOUNT_ID}:{name}"


# What the local stream keeps of the template's destination (capture_local.delivery acts on them).
_KEPT_DESTINATION_SETTINGS = {"CompressionFormat", "BufferingHints", "Prefix"}


def static_prefix(prefix: str) -> str:
    """The leading folders of a Firehose prefix that hold no `!{...}` expression: where to list."""
    folders = [folder for folder in takewhile(lambda part: "!{" not in part, prefix.split("/")) if folder]
    return "".join(f"{folder}/" for folder in folders)


def object_lines(data: bytes) -> Iterator[str]:
    """The NDJSON lines of a stored object, gzip or not, split at "\\n" only (not at U+2028 and co.)."""
    text = gzip.decompress(data) if data.startswith(b"\x1f\x8b") else data
    yield from (line.decode("utf-8") for line in text.split(b"\n") if line.strip())


@dataclass(frozen=True)
class LocalStream:
    name: str
    bucket_name: str
    prefix: str
    destination: Mapping[str, Any]  # its ExtendedS3DestinationConfiguration in the template

    def stored_lines(self, s3: Any) -> Iterator[str]:
        """Every line it stored, objects in the order they were written."""
        pages = s3.get_paginator("list_objects_v2").paginate(Bucket=self.bucket_name, Prefix=self.prefix)
        entries = [entry for page in pages for entry in page.get("Contents", [])]
        for _, key in sorted((entry["LastModified"], entry["Key"]) for entry in entries):
            yield from object_lines(s3.get_object(Bucket=self.bucket_name, Key=key)["Body"].read())


@dataclass(frozen=True)
class LocalResources:
    """The template's resources by logical id, with their local names."""

    template: Template
    tables: Mapping[str, str]
    buckets: Mapping[str, str]
    streams: Mapping[str, LocalStream]
    topics: Mapping[str, str]

    @classmethod
    def from_template(cls, template: Template) -> LocalResources:
        def named(kind: str) -> dict[str, str]:
            return {logical_id: local_name(logical_id) for logical_id in template.logical_ids_of_type(kind)}

        buckets, streams = named("AWS::S3::Bucket"), {}
        for logical_id in template.logical_ids_of_type("AWS::KinesisFirehose::DeliveryStream"):
            destination = template.properties(logical_id)["ExtendedS3DestinationConfiguration"]
            arn = destination.get("BucketARN")  # !GetAtt SomeBucket.Arn
            bucket = str(arn.get("Fn::GetAtt", "")).split(".")[0] if isinstance(arn, dict) else ""
            if bucket not in buckets:
                raise TemplateError(f"{logical_id}: its BucketARN is not !GetAtt of a bucket in the template")
            prefix = static_prefix(destination.get("Prefix", ""))
            streams[logical_id] = LocalStream(local_name(logical_id), buckets[bucket], prefix, destination)
        return cls(template, named("AWS::DynamoDB::Table"), buckets, streams, named("AWS::SNS::Topic"))

    def refs(self, region: str = DEFAULT_REGION) -> dict[str, str]:
        """What `!Ref` of each resource stands for locally (its name; a topic's ARN)."""
        return {
            **self.tables,
            **self.buckets,
            **{key: stream.name for key, stream in self.streams.items()},
            **{key: topic_arn(name, region) for key, name in self.topics.items()},
        }

    @property
    def table_name(self) -> str:
        """The key table, where the demo key goes."""
        if KEYS_TABLE_ID not in self.tables:
            raise TemplateError(f"the template has no AWS::DynamoDB::Table {KEYS_TABLE_ID}")
        return self.tables[KEYS_TABLE_ID]

    def stream(self, logical_id: str = EVENTS_STREAM_ID) -> LocalStream:
        """A stream by its logical id: the events' by default."""
        if logical_id not in self.streams:
            raise TemplateError(f"the template has no Firehose stream {logical_id}")
        return self.streams[logical_id]

    def create(self, client: Callable[[str], Any], region: str) -> None:
        """Every table, bucket and stream; `client(service)` is a client of the moto server."""
        for logical_id, name in self.tables.items():
            table = {"BillingMode": "PAY_PER_REQUEST", **self.template.properties(logical_id)}
            kept = ("KeySchema", "AttributeDefinitions", "BillingMode", "GlobalSecondaryIndexes")
            schema = {key: table[key] for key in kept if key in table}
            client("dynamodb").create_table(TableName=name, **schema)
        location = {"CreateBucketConfiguration": {"LocationConstraint": region}}
        for name in self.buckets.values():  # us-east-1 is the one region that refuses a LocationConstraint
            client("s3").create_bucket(Bucket=name, **(location if region != "us-east-1" else {}))
        for name in self.topics.values():
            client("sns").create_topic(Name=name)
        delivery.install()
        for stream in self.streams.values():
            config = {k: v for k, v in stream.destination.items() if k in _KEPT_DESTINATION_SETTINGS}
            config["BucketARN"] = f"arn:aws:s3:::{stream.bucket_name}"
            config["RoleARN"] = f"arn:aws:iam::{ACCOUNT_ID}:role/{stream.name}"
            client("firehose").create_delivery_stream(
                DeliveryStreamName=stream.name, ExtendedS3DestinationConfiguration=config
            )

    def seed_key(self, dynamodb: Any, token: str, project_id: int, name: str) -> None:
        """The demo project and key, unless kept from an earlier run (with its settings)."""
        for item in (project_item(project_id, name, token), project_key_item(token, project_id, name)):
            try:
                dynamodb.put_item(
                    TableName=self.table_name, Item=item, ConditionExpression="attribute_not_exists(key_id)"
                )
            except dynamodb.exceptions.ConditionalCheckFailedException:
                continue
