"""The API's routes (docs/protocol.md §1, §10–12), each lane's paths in one place. template.yaml declares the
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
CONFIG_PREFIX, STATIC_PREFIX, API_PREFIX = "/array/", "/static/", "/api/"
# Local evaluation's flag definitions (posthog-python and posthog-node, with a personal key).
FLAG_DEFINITIONS_PATHS = ("/flags/definitions", "/api/feature_flag/local_evaluation")
# A flag's payload, asked by name by the server SDKs.
FLAG_REMOTE_CONFIG_PATH = "/api/projects/@current/feature_flags/<key>/remote_config"
# posthog-js's product lists, each with the key it reads the list under.
PRODUCT_LISTS = {
    "/api/surveys": "surveys",
    "/api/early_access_features": "earlyAccessFeatures",
    "/api/product_tours": "product_tours",
    "/api/web_experiments": "experiments",
}
CONFIG_PATHS = (FLAGS_PATH, DECIDE_PATH, FLAG_DEFINITIONS_PATHS[0])
CONFIG_PREFIXES = (CONFIG_PREFIX, STATIC_PREFIX, API_PREFIX)
# The stack's health check, on the capture function.
HEALTH_PATH = "/_health"

ALLOWED_METHODS = ("GET", "POST", "OPTIONS")
