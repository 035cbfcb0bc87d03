"""Creates the template's table, bucket and stream on the moto server, under their local names,
and seeds the demo project key. Every step tolerates what already exists, so it can run again
(moto keeps one in-memory state per process, which a later `mock_aws` may also reset)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from itertools import takewhile
from typing import Any

from botocore.exceptions import ClientError
from capture_core.auth.key_items import project_item, project_key_item

from capture_local.names import ACCOUNT_ID, BUCKET_NAME, STREAM_NAME, TABLE_NAME
from capture_local.template import Template, TemplateError

_ALREADY_EXISTS = {"ResourceInUseException", "BucketAlreadyOwnedByYou", "BucketAlreadyExists"}


@dataclass(frozen=True)
class LocalResources:
    """Which template resource becomes which local resource."""

    table_id: str
    bucket_id: str
    stream_id: str
    table_name: str = TABLE_NAME
    bucket_name: str = BUCKET_NAME
    stream_name: str = STREAM_NAME

    @classmethod
    def from_template(cls, template: Template) -> LocalResources:
        def only(resource_type: str) -> str:
            found = template.logical_ids_of_type(resource_type)
            if len(found) != 1:
                raise TemplateError(f"expected one {resource_type} in the template, found {len(found)}")
            return found[0]

        return cls(
            table_id=only("AWS::DynamoDB::Table"),
            bucket_id=only("AWS::S3::Bucket"),
            stream_id=only("AWS::KinesisFirehose::DeliveryStream"),
        )

    def refs(self) -> dict[str, str]:
        """What `!Ref` of each resource stands for locally (for these types, the resource's name)."""
        return {
            self.table_id: self.table_name,
            self.bucket_id: self.bucket_name,
            self.stream_id: self.stream_name,
        }


def _create(call: Any, **arguments: Any) -> None:
    try:
        call(**arguments)
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") not in _ALREADY_EXISTS:
            raise


def create_table(dynamodb: Any, name: str, properties: Mapping[str, Any]) -> None:
    _create(
        dynamodb.create_table,
        TableName=name,
        KeySchema=properties["KeySchema"],
        AttributeDefinitions=properties["AttributeDefinitions"],
        BillingMode=properties.get("BillingMode", "PAY_PER_REQUEST"),
    )


def create_bucket(s3: Any, name: str, region: str) -> None:
    # us-east-1 is the one region that refuses an explicit LocationConstraint.
    location = {} if region == "us-east-1" else {"CreateBucketConfiguration": {"LocationConstraint": region}}
    _create(s3.create_bucket, Bucket=name, **location)


def static_prefix(prefix: str) -> str:
    """The leading folders of a Firehose prefix that hold no `!{...}` expression. moto does not
    evaluate expressions (they would become literal key text); it adds its own YYYY/MM/DD/HH/."""
    folders = takewhile(lambda folder: "!{" not in folder, prefix.split("/"))
    static = "/".join(folder for folder in folders if folder)
    return f"{static}/" if static else ""


def stream_prefix(properties: Mapping[str, Any]) -> str:
    """The key prefix the local stream writes under."""
    return static_prefix(properties["ExtendedS3DestinationConfiguration"].get("Prefix", ""))


def create_stream(firehose: Any, name: str, properties: Mapping[str, Any], bucket_name: str) -> None:
    destination = properties["ExtendedS3DestinationConfiguration"]
    config: dict[str, Any] = {
        "BucketARN": f"arn:aws:s3:::{bucket_name}",
        "RoleARN": f"arn:aws:iam::{ACCOUNT_ID}:role/{name}-delivery",
        # moto stores the setting but writes records uncompressed; readers check the gzip magic.
        "CompressionFormat": destination.get("CompressionFormat", "UNCOMPRESSED"),
        "Prefix": stream_prefix(properties),
    }
    if "BufferingHints" in destination:
        config["BufferingHints"] = destination["BufferingHints"]
    _create(
        firehose.create_delivery_stream,
        DeliveryStreamName=name,
        DeliveryStreamType=properties.get("DeliveryStreamType", "DirectPut"),
        ExtendedS3DestinationConfiguration=config,
    )


def seed_project_key(dynamodb: Any, *, table_name: str, token: str, project_id: int, name: str) -> None:
    dynamodb.put_item(TableName=table_name, Item=project_item(project_id, name, token))
    dynamodb.put_item(TableName=table_name, Item=project_key_item(token, project_id, name))
