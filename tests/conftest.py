"""Settings every test runs with, in place before any module of the project is imported."""

from __future__ import annotations

import os

from hypothesis import settings

# Powertools: a namespace for the metrics the pipeline emits (they flush every 100 metrics even
# outside a handler), no X-Ray, quiet logs.
os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "CaptureTests")
os.environ.setdefault("POWERTOOLS_SERVICE_NAME", "capture-tests")
os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")
os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")

# In CI, hypothesis draws the same examples on every run, so a landing never hangs on luck;
# locally it keeps exploring new ones.
settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")
