"""The Powertools Logger, Metrics and Tracer every module shares (configured by POWERTOOLS_* variables)."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

# Preflights and 404s publish no metric; that is expected, not worth a warning per request.
warnings.filterwarnings("ignore", message="No application metrics to publish")

logger = Logger()
metrics = Metrics()
tracer = Tracer()


def observed(
    handler: Callable[[dict[str, Any], LambdaContext], dict[str, Any]],
) -> Callable[..., dict[str, Any]]:
    """A Lambda handler with the request id as log correlation id, tracing and EMF metrics."""
    handler = metrics.log_metrics(capture_cold_start_metric=True)(handler)
    handler = tracer.capture_lambda_handler(handler)
    return logger.inject_lambda_context(
        correlation_id_path=correlation_paths.API_GATEWAY_REST, clear_state=True
    )(handler)
