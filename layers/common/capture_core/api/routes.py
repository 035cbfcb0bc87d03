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

# Which function serves which API resource, once: template.yaml declares each function's `Api`
# events as these resources (a greedy one as `<prefix>{proxy+}`), and a test holds the two equal.
# The capture function also takes the root and every path no other resource takes (it answers 404).
CATCH_ALL = ("/", "/{proxy+}")
FUNCTION_RESOURCES: dict[str, tuple[str, ...]] = {
    "capture": (*CAPTURE_PATHS, HEALTH_PATH, *CATCH_ALL),
    "batch": (*BATCH_PATHS, V1_PATH),
    "recordings": (RECORDINGS_PATH,),
    "config": (*CONFIG_PATHS, *(f"{prefix}{{proxy+}}" for prefix in CONFIG_PREFIXES)),
}


def function_for(path: str) -> str:
    """The function API Gateway sends `path` to: a literal resource first (one trailing slash
    ignored), else the longest greedy prefix, else the catch-all."""
    bare = path.rstrip("/") or "/"
    literal = {resource: name for name, resources in FUNCTION_RESOURCES.items() for resource in resources}
    if bare in literal and not bare.endswith("{proxy+}"):
        return literal[bare]
    greedy = sorted(
        (
            (resource.removesuffix("{proxy+}"), name)
            for name, resources in FUNCTION_RESOURCES.items()
            for resource in resources
            if resource.endswith("{proxy+}")
        ),
        key=lambda pair: -len(pair[0]),
    )
    return next(name for prefix, name in greedy if path.startswith(prefix))
