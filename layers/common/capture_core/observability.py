"""The Powertools Logger and Metrics every module shares (configured by POWERTOOLS_* variables),
and X-Ray SDK tracing where an operator turns it on.

`Tracing: Active` in the template gives every request its API Gateway and Lambda segments with
no SDK in the function. The X-Ray SDK (through Powertools' Tracer) adds subsegments for the AWS
calls, and adds to every cold start (`make bench` measures how much), so it is imported
only with `SDK_TRACING=true`.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.logging import Logger, correlation_paths
from aws_lambda_powertools.metrics import Metrics
from aws_lambda_powertools.utilities.typing import LambdaContext

from capture_core.settings import get_settings

# The one filter of this warning (pytest's configuration names the same text).
NO_METRICS_WARNING = "No application metrics to publish"
# Preflights and 404s publish no metric; that is expected, not worth a warning per request.
warnings.filterwarnings("ignore", message=NO_METRICS_WARNING)

logger = Logger()
metrics = Metrics()

Handler = Callable[[dict[str, Any], LambdaContext], dict[str, Any]]


def observed(handler: Handler) -> Callable[..., dict[str, Any]]:
    """A Lambda handler with the request id as log correlation id, EMF metrics, and X-Ray SDK
    subsegments when SDK_TRACING is on."""
    handler = metrics.log_metrics(capture_cold_start_metric=True)(handler)
    if get_settings().sdk_tracing:
        from aws_lambda_powertools.tracing import Tracer  # noqa: PLC0415 (only when asked for)

        handler = Tracer().capture_lambda_handler(handler)
    return logger.inject_lambda_context(
        correlation_id_path=correlation_paths.API_GATEWAY_REST, clear_state=True
    )(handler)
