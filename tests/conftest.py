"""Settings every test runs with, in place before any module of the project is imported."""

from __future__ import annotations

import os

# Powertools: a namespace for the metrics the pipeline emits (they flush every 100 metrics even
# outside a handler), no X-Ray, quiet logs.
os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "CaptureTests")
os.environ.setdefault("POWERTOOLS_SERVICE_NAME", "capture-tests")
os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")
os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
