"""`make openapi`: writes openapi.json and the stored-event JSON Schema from every function's
resolver, built to be documented by the same wiring the handlers use."""

from __future__ import annotations

import os
from pathlib import Path

from capture_core.docs.openapi import published_files
from capture_core.settings import Settings
from capture_core.wiring import documented_apps

from capture_local.aws import aws_environment, environment
from capture_local.names import DEFAULT_REGION, REPOSITORY_ROOT


def generated() -> dict[Path, str]:
    """The published files as the code generates them."""
    # The resolvers' AWS clients are made, never called: fake credentials keep that offline.
    with environment(aws_environment(DEFAULT_REGION)):
        apps = documented_apps(Settings())
    return published_files(apps, REPOSITORY_ROOT)


def main() -> int:
    for path, text in generated().items():
        path.parent.mkdir(exist_ok=True)
        path.write_text(text, encoding="utf-8")
        print(os.path.relpath(path, REPOSITORY_ROOT))
    return 0
