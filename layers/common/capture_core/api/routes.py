"""The API's routes (SPEC §1). template.yaml declares the same paths; a test keeps them equal."""

from __future__ import annotations

CAPTURE_PATHS = ("/capture", "/e", "/i/v0/e", "/track", "/engage")
BATCH_PATHS = ("/batch",)
ALLOWED_METHODS = ("GET", "POST", "OPTIONS")
