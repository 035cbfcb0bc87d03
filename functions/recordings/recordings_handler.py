"""Lambda entry point of the recordings function: /s (posthog-js's session recordings)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from capture_core.observability import observed
from capture_core.settings import get_settings
from capture_core.wiring import recordings_function

app = recordings_function(get_settings())


@observed
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
