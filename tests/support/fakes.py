"""In-memory stand-ins for the AWS clients, behind the same calls the code makes."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError
from capture_core.auth.key_items import ProjectSettings, personal_key_item, project_item, project_key_item


class FakeKeyTable:
    """A DynamoDB client with one key table, counting GetItem and DescribeTable calls; `failure`
    makes every call fail."""

    def __init__(self, *items: dict[str, Any]) -> None:
        self.items = {item["key_id"]["S"]: item for item in items}
        self.get_item_calls = 0
        self.put_item_calls = 0
        self.describe_calls = 0
        self.status = "ACTIVE"
        self.failure: str | None = None

    @classmethod
    def with_project(cls, token: str, project_id: int, *, anonymize_ips: bool = False) -> FakeKeyTable:
        table = cls()
        table.add_project(token, project_id, anonymize_ips=anonymize_ips)
        return table

    def add_project(
        self,
        token: str,
        project_id: int,
        *,
        anonymize_ips: bool = False,
        settings: ProjectSettings | None = None,
    ) -> None:
        settings = settings or ProjectSettings(anonymize_ips=anonymize_ips)
        for item in (
            project_item(project_id, "test", token, settings),
            project_key_item(token, project_id, "test", settings),
        ):
            self.items[item["key_id"]["S"]] = item

    def add_personal_key(self, secret: str, project_ids: list[int] | None) -> None:
        item = personal_key_item(secret, "test", project_ids)
        self.items[item["key_id"]["S"]] = item

    def get_item(self, TableName: str, Key: dict[str, Any], **_: Any) -> dict[str, Any]:
        self.get_item_calls += 1
        if self.failure:
            raise ClientError({"Error": {"Code": self.failure, "Message": "injected"}}, "GetItem")
        item = self.items.get(Key["key_id"]["S"])
        return {"Item": item} if item else {}

    def put_item(
        self, TableName: str, Item: dict[str, Any], ConditionExpression: str | None = None, **_: Any
    ) -> dict[str, Any]:
        self.put_item_calls += 1
        if self.failure:
            raise ClientError({"Error": {"Code": self.failure, "Message": "injected"}}, "PutItem")
        key = Item["key_id"]["S"]
        if ConditionExpression == "attribute_not_exists(key_id)" and key in self.items:
            error = {"Error": {"Code": "ConditionalCheckFailedException", "Message": "exists"}}
            raise ClientError(error, "PutItem")
        self.items[key] = Item
        return {}

    def describe_table(self, TableName: str) -> dict[str, Any]:
        self.describe_calls += 1
        if self.failure:
            raise ClientError({"Error": {"Code": self.failure, "Message": "injected"}}, "DescribeTable")
        return {"Table": {"TableName": TableName, "TableStatus": self.status}}


class FakeStreams:
    """Firehose's control plane for the health check: every stream ACTIVE unless `states` or
    `failures` (by stream name) say otherwise."""

    def __init__(self) -> None:
        self.states: dict[str, str] = {}
        self.failures: dict[str, str] = {}
        self.describe_calls = 0

    def describe_delivery_stream(self, DeliveryStreamName: str) -> dict[str, Any]:
        self.describe_calls += 1
        if DeliveryStreamName in self.failures:
            error = {"Error": {"Code": self.failures[DeliveryStreamName], "Message": "injected"}}
            raise ClientError(error, "DescribeDeliveryStream")
        state = self.states.get(DeliveryStreamName, "ACTIVE")
        return {
            "DeliveryStreamDescription": {
                "DeliveryStreamName": DeliveryStreamName,
                "DeliveryStreamStatus": state,
            }
        }
