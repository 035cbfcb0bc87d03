"""Lambda entry point of the usage counter: each object the streams deliver to the events bucket
(an EventBridge "Object Created" event from S3) counted into its project's month, and the quotas
it crosses acted on."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from capture_core.observability import logger, metrics
from capture_core.settings import get_settings
from capture_core.wiring import usage_function

count = usage_function(get_settings())


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return count(event)
