"""The context object Lambda passes to a handler, with the attributes Powertools and handlers read."""

import time
import uuid
from dataclasses import dataclass

from capture_local.names import ACCOUNT_ID, DEFAULT_REGION


@dataclass(frozen=True)
class LambdaContext:
    function_name: str
    memory_limit_in_mb: str  # a string, as the Python runtime gives it
    invoked_function_arn: str
    deadline_ms: int
    aws_request_id: str
    log_group_name: str
    function_version: str = "$LATEST"
    log_stream_name: str = "local"

    def get_remaining_time_in_millis(self) -> int:
        return max(0, self.deadline_ms - int(time.time() * 1000))


def lambda_context(
    name: str, memory: int = 128, timeout_s: float = 3.0, region: str = DEFAULT_REGION, request_id: str = ""
) -> LambdaContext:
    """A context for one invocation starting now, its deadline `timeout_s` away."""
    arn = f"arn:aws:lambda:{region}:{ACCOUNT_ID}:function:{name}"
    deadline, request_id = int((time.time() + timeout_s) * 1000), request_id or str(uuid.uuid4())
    return LambdaContext(name, str(memory), arn, deadline, request_id, f"/aws/lambda/{name}")
