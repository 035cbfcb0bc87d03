"""`make openapi` (`python -m capture_admin.openapi`): writes openapi.json and the stored-event
JSON Schema from every function's resolver, built to be documented by the same wiring the handlers
use."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from unittest import mock

from capture_core.docs.openapi import published_files
from capture_core.settings import Settings
from capture_core.wiring import documented_apps
from capture_local.names import DEFAULT_REGION, FAKE_CREDENTIALS, REPOSITORY_ROOT

# The resolvers' AWS clients are made, never called: fake credentials keep that offline.
_ENVIRONMENT = {**FAKE_CREDENTIALS, "AWS_DEFAULT_REGION": DEFAULT_REGION}


def generated() -> dict[Path, str]:
    """The published files as the code generates them."""
    with mock.patch.dict(os.environ, _ENVIRONMENT):
        apps = documented_apps(Settings())
    return published_files(apps, REPOSITORY_ROOT)


def main() -> int:
    for path, text in generated().items():
        path.parent.mkdir(exist_ok=True)
        path.write_text(text, encoding="utf-8")
        print(os.path.relpath(path, REPOSITORY_ROOT))
    return 0


if __name__ == "__main__":
    sys.exit(main())
