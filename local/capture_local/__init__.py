"""The capture API on one machine, without Docker or an AWS account: moto for DynamoDB, Firehose
and S3, the template's functions in this process, and an API Gateway (REST) emulation in front.

    with LocalStack(port=0, moto_port=0) as stack:
        ...  # POST to stack.api_url, then stack.read_events()
"""

from capture_local.exchanges import Exchange as Exchange
from capture_local.exchanges import Recorder as Recorder
from capture_local.names import DEMO_PROJECT_ID as DEMO_PROJECT_ID
from capture_local.names import DEMO_TOKEN as DEMO_TOKEN
from capture_local.stack import LocalStack as LocalStack
