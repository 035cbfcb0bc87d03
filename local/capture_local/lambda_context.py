"""The context object Lambda passes to a handler: Powertools' LambdaContext, with its values."""

import time
import uuid

from aws_lambda_powertools.utilities.typing import LambdaContext

from capture_local.names import ACCOUNT_ID, DEFAULT_REGION


class _Invocation(LambdaContext):
    def __init__(self, deadline_ms: int, **values: str) -> None:
        self._deadline_ms = deadline_ms
        for name, value in values.items():  # LambdaContext's properties read `_<name>`
            setattr(self, f"_{name}", value)

    def get_remaining_time_in_millis(self) -> int:  # type: ignore[override]  # a static stub there
        return max(0, self._deadline_ms - int(time.time() * 1000))


def lambda_context(
    name: str, memory: int = 128, timeout_s: float = 3.0, region: str = DEFAULT_REGION, request_id: str = ""
) -> LambdaContext:
    """A context for one invocation starting now, its deadline `timeout_s` away. The memory is a
    string, as the Python runtime gives it."""
    arn = f"arn:aws:lambda:{region}:{ACCOUNT_ID}:function:{name}"
    deadline, request_id = int((time.time() + timeout_s) * 1000), request_id or str(uuid.uuid4())
    values = {"function_name": name, "memory_limit_in_mb": str(memory), "invoked_function_arn": arn}
    values |= {"aws_request_id": request_id, "log_group_name": f"/aws/lambda/{name}"}
    return _Invocation(deadline, **values, function_version="$LATEST", log_stream_name="local")
