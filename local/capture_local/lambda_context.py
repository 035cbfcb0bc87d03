"""The context object Lambda passes to a handler, with the attributes Powertools and handlers read."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field

from capture_local.names import ACCOUNT_ID, DEFAULT_REGION


@dataclass(frozen=True)
class LambdaContext:
    function_name: str
    # A string, as the Python runtime gives it (it copies AWS_LAMBDA_FUNCTION_MEMORY_SIZE).
    memory_limit_in_mb: str
    invoked_function_arn: str
    deadline_ms: int
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    function_version: str = "$LATEST"
    log_group_name: str = ""
    log_stream_name: str = "local"

    def get_remaining_time_in_millis(self) -> int:
        return max(0, self.deadline_ms - int(time.time() * 1000))


def lambda_context(
    function_name: str,
    memory_mb: int = 128,
    timeout_s: float = 3.0,
    *,
    region: str = DEFAULT_REGION,
    request_id: str | None = None,
) -> LambdaContext:
    """A context for one invocation starting now, its deadline `timeout_s` away."""
    return LambdaContext(
        function_name=function_name,
        memory_limit_in_mb=str(memory_mb),
        invoked_function_arn=f"arn:aws:lambda:{region}:{ACCOUNT_ID}:function:{function_name}",
        deadline_ms=int(time.time() * 1000 + timeout_s * 1000),
        aws_request_id=request_id or str(uuid.uuid4()),
        log_group_name=f"/aws/lambda/{function_name}",
    )
