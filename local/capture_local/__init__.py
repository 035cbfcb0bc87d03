"""The capture API on one machine, without Docker or an AWS account: moto for DynamoDB, Firehose
and S3, the template's functions in this process, and an API Gateway (REST) emulation in front.

    with LocalStack(port=0, moto_port=0) as stack:
        ...  # POST to stack.api_url, then stack.read_events()
"""

from capture_local.lambda_context import LambdaContext, lambda_context
from capture_local.names import BUCKET_NAME, DEMO_PROJECT_ID, DEMO_TOKEN, STREAM_NAME, TABLE_NAME
from capture_local.rest_event import build_rest_event
from capture_local.stack import LocalStack

__all__ = [
    "BUCKET_NAME",
    "DEMO_PROJECT_ID",
    "DEMO_TOKEN",
    "STREAM_NAME",
    "TABLE_NAME",
    "LambdaContext",
    "LocalStack",
    "build_rest_event",
    "lambda_context",
]
