"""The template's Lambda functions as the local stack runs them: code folder, handler, sizing, the
API resources that reach them, and the environment each one runs with."""

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from capture_local.names import ENDPOINT_VARIABLE, FAKE_CREDENTIALS
from capture_local.template import Template, TemplateError, resolve

Refs = Mapping[str, str]
# Lambda's own defaults when neither the function nor Globals set them.
LAMBDA_DEFAULTS = {"MemorySize": 128, "Timeout": 3}


@dataclass(frozen=True)
class FunctionSpec:
    logical_id: str
    code_dir: Path
    handler: str  # "module.function"
    memory_mb: int
    timeout_s: float
    layer_dirs: tuple[Path, ...]
    variables: Mapping[str, Any]  # Globals' and its own Environment.Variables, unresolved
    resources: tuple[str, ...]  # the REST resources of its `Type: Api` events
    # The objects whose creation invokes it (EventBridge rules on S3's "Object Created"): the
    # bucket's logical id and the keys' prefixes, per rule.
    object_created: tuple[tuple[str, tuple[str, ...]], ...]
    settings: frozenset[str]  # the variables that are settings (a literal or a parameter), not names

    def environment(self, refs: Refs, region: str, endpoint: str, overrides: Refs) -> dict[str, str]:
        """The function's environment in Lambda, pointed at the local stack: its variables (`refs`
        says what each `!Ref` stands for), `overrides` of its settings, and what Lambda sets (the
        layer derives some limits from the memory size)."""
        where = f"{self.logical_id}.Environment.Variables"
        return {
            **{name: resolve(value, refs, f"{where}.{name}") for name, value in self.variables.items()},
            **{name: value for name, value in overrides.items() if name in self.settings},
            "AWS_LAMBDA_FUNCTION_NAME": self.logical_id,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(self.memory_mb),
            "AWS_LAMBDA_FUNCTION_TIMEOUT": f"{self.timeout_s:g}",
            **dict.fromkeys(("AWS_REGION", "AWS_DEFAULT_REGION"), region),
            **FAKE_CREDENTIALS,
            ENDPOINT_VARIABLE: endpoint,
            "POWERTOOLS_TRACE_DISABLED": "true",  # no X-Ray daemon runs locally
        }


def _api_resources(logical_id: str, events: Mapping[str, Any]) -> tuple[str, ...]:
    api = {name: event["Properties"] for name, event in events.items() if event.get("Type") == "Api"}
    for name, event in api.items():
        # Every route takes ANY, so that the function answers 405 in the contract's format;
        # per-method resources would need API Gateway's method matching, not emulated here.
        if str(event.get("Method")).upper() != "ANY":
            raise TemplateError(f"{logical_id}.Events.{name}: only Method: any is emulated locally")
    return tuple(event["Path"] for event in api.values())


def _object_created(logical_id: str, events: Mapping[str, Any]) -> tuple[tuple[str, tuple[str, ...]], ...]:
    rules = []
    for name, event in events.items():
        pattern = (event.get("Properties") or {}).get("Pattern") or {}
        if event.get("Type") != "EventBridgeRule" or pattern.get("source") != ["aws.s3"]:
            continue
        detail = pattern.get("detail") or {}
        buckets = (detail.get("bucket") or {}).get("name") or []
        keys = (detail.get("object") or {}).get("key") or []
        refs = [str(bucket["Ref"]) for bucket in buckets if isinstance(bucket, dict) and "Ref" in bucket]
        prefixes = tuple(key["prefix"] for key in keys if isinstance(key, dict) and "prefix" in key)
        if pattern.get("detail-type") != ["Object Created"] or len(refs) != 1 or len(prefixes) != len(keys):
            where = f"{logical_id}.Events.{name}"
            raise TemplateError(
                f"{where}: only Object Created of one bucket (!Ref), by key prefix, is emulated"
            )
        rules.append((refs[0], prefixes))
    return tuple(rules)


def function_specs(template: Template) -> list[FunctionSpec]:
    common, params = template.function_globals(), template.document.get("Parameters") or {}
    layers, base, specs = template.logical_ids_of_type("AWS::Serverless::LayerVersion"), template.base_dir, []
    for logical_id in template.logical_ids_of_type("AWS::Serverless::Function"):
        own = template.properties(logical_id)
        if "CodeUri" not in own:
            raise TemplateError(f"{logical_id}: only CodeUri functions are emulated locally")
        setting = {**LAMBDA_DEFAULTS, **common, **own}
        env = {**(common.get("Environment") or {}).get("Variables", {})}
        env.update((own.get("Environment") or {}).get("Variables", {}))
        listed = [*common.get("Layers", []), *own.get("Layers", [])]  # !Ref of a local layer, or an ARN
        refs = [layer.get("Ref") for layer in listed if isinstance(layer, dict)]
        layer_dirs = tuple(base / template.properties(ref)["ContentUri"] for ref in refs if ref in layers)
        names = frozenset(k for k, v in env.items() if not isinstance(v, dict) or v.get("Ref") in params)
        resources = _api_resources(logical_id, own.get("Events") or {})
        created = _object_created(logical_id, own.get("Events") or {})
        sizing = (setting["Handler"], int(setting["MemorySize"]), float(setting["Timeout"]))
        code = base / own["CodeUri"]
        specs.append(FunctionSpec(logical_id, code, *sizing, layer_dirs, env, resources, created, names))
    return specs
