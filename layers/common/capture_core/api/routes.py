"""The API's routes (SPEC §1, §10–12), each lane's paths in one place. template.yaml declares the
same paths (prefixes as `<prefix>{proxy+}`); a test keeps them equal."""

from __future__ import annotations

# v0 capture: browsers' events on the capture function, server SDKs' batches on the batch one.
ENGAGE_PATH = "/engage"  # person updates: an object without `event` is an $identify
CAPTURE_PATHS = ("/capture", "/e", "/i/v0/e", "/track", ENGAGE_PATH)
BATCH_PATHS = ("/batch",)
# Capture v1, on the batch function.
V1_PATH = "/i/v1/analytics/events"
# Session recordings, on a function of their own.
RECORDINGS_PATH = "/s"
# What the SDKs ask besides capture, on the config function.
FLAGS_PATH, DECIDE_PATH = "/flags", "/decide"
CONFIG_PREFIX, STATIC_PREFIX = "/array/", "/static/"
CONFIG_PATHS, CONFIG_PREFIXES = (FLAGS_PATH, DECIDE_PATH), (CONFIG_PREFIX, STATIC_PREFIX)
# The stack's health check, on the capture function.
HEALTH_PATH = "/_health"

ALLOWED_METHODS = ("GET", "POST", "OPTIONS")
