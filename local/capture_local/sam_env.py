"""The `--env-vars` file for `sam local start-api`: both functions pointed at a moto server on the
host (`python -m capture_local moto`), using the local resource names. `local/sam-env.json` is this
document; a unit test keeps the two equal."""

from __future__ import annotations

import json
from typing import Any

from capture_local.functions import function_specs
from capture_local.names import DEFAULT_MOTO_PORT, ENDPOINT_VARIABLE
from capture_local.provisioning import LocalResources
from capture_local.template import Template, resolve


def sam_env_document(template: Template, moto_port: int = DEFAULT_MOTO_PORT) -> dict[str, Any]:
    """Per function, the variables that differ locally. SAM only overrides variables the template
    declares, so only those whose value is a resource `!Ref`, plus the endpoint, are listed."""
    local = LocalResources.from_template(template)
    refs = local.refs()
    document: dict[str, Any] = {}
    for spec in function_specs(template):
        variables = {
            name: resolve(value, refs, f"{spec.logical_id}.{name}")
            for name, value in spec.environment.items()
            if isinstance(value, dict) and value.get("Ref") in refs
        }
        # Docker Desktop resolves this name to the host; on Linux, sam needs
        # `--add-host host.docker.internal:host-gateway`.
        variables[ENDPOINT_VARIABLE] = f"http://host.docker.internal:{moto_port}"
        document[spec.logical_id] = dict(sorted(variables.items()))
    return document


def sam_env_json(template: Template, moto_port: int = DEFAULT_MOTO_PORT) -> str:
    return json.dumps(sam_env_document(template, moto_port), indent=2) + "\n"
