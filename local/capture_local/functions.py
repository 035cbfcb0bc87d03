"""The template's Lambda functions as the local stack runs them: code folder, handler, sizing,
environment and the API routes that reach them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from capture_local.template import Template, TemplateError, resolve

FUNCTION_TYPE = "AWS::Serverless::Function"
LAYER_TYPE = "AWS::Serverless::LayerVersion"

# Lambda's own defaults when neither the function nor Globals set them.
LAMBDA_DEFAULT_MEMORY_MB = 128
LAMBDA_DEFAULT_TIMEOUT_S = 3


@dataclass(frozen=True)
class ApiRoute:
    """One `Type: Api` event: a REST resource path and an HTTP method (``ANY`` for all)."""

    resource: str
    method: str
    function: str


@dataclass(frozen=True)
class FunctionSpec:
    logical_id: str
    code_dir: Path
    handler: str
    memory_mb: int
    timeout_s: float
    layer_dirs: tuple[Path, ...]
    environment: Mapping[str, Any]
    routes: tuple[ApiRoute, ...]

    @property
    def module_name(self) -> str:
        return self.handler.rsplit(".", 1)[0]

    @property
    def handler_name(self) -> str:
        return self.handler.rsplit(".", 1)[1]


def _setting(template: Template, properties: Mapping[str, Any], name: str, default: Any) -> Any:
    return properties.get(name, template.function_globals().get(name, default))


def _layer_dirs(template: Template, properties: Mapping[str, Any]) -> tuple[Path, ...]:
    layers = [*template.function_globals().get("Layers", []), *properties.get("Layers", [])]
    dirs = []
    for layer in layers:
        logical_id = layer.get("Ref") if isinstance(layer, dict) else None
        if logical_id in template.logical_ids_of_type(LAYER_TYPE):
            dirs.append(template.base_dir / template.properties(logical_id)["ContentUri"])
    return tuple(dirs)


def _routes(logical_id: str, properties: Mapping[str, Any]) -> tuple[ApiRoute, ...]:
    events = properties.get("Events") or {}
    return tuple(
        ApiRoute(
            resource=event["Properties"]["Path"],
            method=event["Properties"]["Method"].upper(),
            function=logical_id,
        )
        for event in events.values()
        if event.get("Type") == "Api"
    )


def function_specs(template: Template) -> list[FunctionSpec]:
    specs = []
    for logical_id in template.logical_ids_of_type(FUNCTION_TYPE):
        properties = template.properties(logical_id)
        if "InlineCode" in properties or "ImageUri" in properties:
            raise TemplateError(f"{logical_id}: only CodeUri functions are emulated locally")
        environment = {
            **((template.function_globals().get("Environment") or {}).get("Variables") or {}),
            **((properties.get("Environment") or {}).get("Variables") or {}),
        }
        specs.append(
            FunctionSpec(
                logical_id=logical_id,
                code_dir=template.base_dir / properties["CodeUri"],
                handler=_setting(template, properties, "Handler", None),
                memory_mb=int(_setting(template, properties, "MemorySize", LAMBDA_DEFAULT_MEMORY_MB)),
                timeout_s=float(_setting(template, properties, "Timeout", LAMBDA_DEFAULT_TIMEOUT_S)),
                layer_dirs=_layer_dirs(template, properties),
                environment=environment,
                routes=_routes(logical_id, properties),
            )
        )
    return specs


def shared_environment(specs: list[FunctionSpec], refs: Mapping[str, str]) -> dict[str, str]:
    """The one environment every function runs with. The local stack runs all functions in one
    process, whose environment is shared: functions that need different values cannot be emulated."""
    resolved = {
        spec.logical_id: {
            name: resolve(value, refs, f"{spec.logical_id}.Environment.Variables.{name}")
            for name, value in spec.environment.items()
        }
        for spec in specs
    }
    first_id, first = next(iter(resolved.items()), ("", {}))
    for logical_id, environment in resolved.items():
        differing = sorted(
            name for name in first.keys() | environment.keys() if first.get(name) != environment.get(name)
        )
        if differing:
            raise TemplateError(
                f"{first_id} and {logical_id} set different values for {', '.join(differing)}; the local "
                "stack runs every function in one process, so their environment variables must agree"
            )
    return first
