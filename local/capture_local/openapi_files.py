"""`make openapi`: writes openapi.json and the stored-event JSON Schema from the handlers' own
resolvers, loaded as Lambda loads them."""

import inspect
import os
from pathlib import Path

from capture_core.openapi import published_files

from capture_local.functions import function_specs
from capture_local.handlers import load_handler
from capture_local.names import DEFAULT_REGION, DEFAULT_TEMPLATE, FAKE_CREDENTIALS, REPOSITORY_ROOT
from capture_local.template import Template

# The handlers build AWS clients when imported: fake credentials keep that offline.
_ENVIRONMENT = {**FAKE_CREDENTIALS, "AWS_DEFAULT_REGION": DEFAULT_REGION, "POWERTOOLS_METRICS_NAMESPACE": "x"}


def generated(template_path: Path = DEFAULT_TEMPLATE) -> dict[Path, str]:
    """The published files as the code of every function in the template generates them: from each
    handler module's own resolver, `app`, under the observability decorators."""
    specs = function_specs(Template.load(template_path))
    apps = [inspect.unwrap(load_handler(spec, _ENVIRONMENT)).__globals__["app"] for spec in specs]
    return published_files(apps, REPOSITORY_ROOT)


def main() -> int:
    for path, text in generated().items():
        path.parent.mkdir(exist_ok=True)
        path.write_text(text, encoding="utf-8")
        print(os.path.relpath(path, REPOSITORY_ROOT))
    return 0
