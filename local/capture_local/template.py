"""Reads the SAM template the local stack emulates, so local resources cannot drift from it. Short
tags (`!Ref X`, `!GetAtt X.Arn`, `!Sub "..."`) become their long forms (`{"Ref": "X"}`, ...), and
`!FindInMap` of literal names the value it finds."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml


class TemplateError(ValueError):
    """The template uses something the local stack cannot emulate."""


class _CloudFormationLoader(yaml.SafeLoader):
    """A safe loader that keeps every `!Tag` as data instead of refusing it."""


def _intrinsic(loader: yaml.SafeLoader, tag_suffix: str, node: yaml.Node) -> dict[str, Any]:
    tag = loader.resolve(type(node), node.value, (True, False))  # type: ignore[no-untyped-call]
    untagged = type(node)(tag, node.value, node.start_mark, node.end_mark)  # the node as if plain
    name = "Ref" if tag_suffix == "Ref" else f"Fn::{tag_suffix}"
    return {name: loader.construct_object(untagged, deep=True)}


_CloudFormationLoader.add_multi_constructor("!", _intrinsic)


def load_template_text(text: str) -> dict[str, Any]:
    document = yaml.load(text, Loader=_CloudFormationLoader)  # noqa: S506 (a SafeLoader subclass)
    if not isinstance(document, dict) or not isinstance(document.get("Resources"), dict):
        raise TemplateError("not a CloudFormation template: no Resources section")
    return dict(_with_mappings(document, document.get("Mappings") or {}))


def _with_mappings(value: Any, mappings: Mapping[str, Any]) -> Any:
    """`value` with each `!FindInMap [map, key, name]` of literal names replaced by what it finds:
    a mapping is fixed when the template is written, so every reader sees the value itself."""
    if isinstance(value, list):
        return [_with_mappings(item, mappings) for item in value]
    if not isinstance(value, dict):
        return value
    if list(value) == ["Fn::FindInMap"]:
        path = value["Fn::FindInMap"]
        if not (isinstance(path, list) and len(path) == 3 and all(isinstance(part, str) for part in path)):
            raise TemplateError(f"!FindInMap {path!r}: only three literal names are emulated locally")
        try:
            return mappings[path[0]][path[1]][path[2]]
        except (KeyError, TypeError):
            raise TemplateError(f"!FindInMap {path!r}: no such entry in Mappings") from None
    return {key: _with_mappings(item, mappings) for key, item in value.items()}


@dataclass(frozen=True)
class Template:
    """A parsed template and the folder its relative paths (CodeUri, ContentUri) start from."""

    document: Mapping[str, Any]
    base_dir: Path

    @classmethod
    def load(cls, path: Path) -> Template:
        return cls(load_template_text(path.read_text(encoding="utf-8")), path.resolve().parent)

    @property
    def resources(self) -> Mapping[str, Any]:
        return self.document["Resources"]  # type: ignore[no-any-return]

    def properties(self, logical_id: str) -> Mapping[str, Any]:
        if logical_id not in self.resources:
            raise TemplateError(f"the template has no resource {logical_id!r}")
        return self.resources[logical_id].get("Properties") or {}

    def logical_ids_of_type(self, resource_type: str) -> list[str]:
        return [name for name, body in self.resources.items() if body.get("Type") == resource_type]

    def function_globals(self) -> Mapping[str, Any]:
        return (self.document.get("Globals") or {}).get("Function") or {}

    def binary_media_types(self) -> tuple[str, ...]:
        """The API's BinaryMediaTypes: bodies of these types reach the functions base64-encoded."""
        apis = self.logical_ids_of_type("AWS::Serverless::Api")
        return tuple(map(str, self.properties(apis[0]).get("BinaryMediaTypes", ()))) if apis else ()

    def parameter_defaults(self) -> dict[str, str]:
        parameters = self.document.get("Parameters") or {}
        return {name: scalar_text(body["Default"]) for name, body in parameters.items() if "Default" in body}


def scalar_text(value: Any) -> str:
    """A scalar as CloudFormation passes it on: environment variables and parameters are strings."""
    if isinstance(value, bool | int | float | str):
        return str(value).lower() if isinstance(value, bool) else str(value)
    raise TemplateError(f"expected a scalar, got {value!r}")


def resolve(value: Any, refs: Mapping[str, str], where: str) -> str:
    """The string a scalar or an intrinsic (`Ref`, `Fn::Sub` of Refs) stands for, given what each
    logical id or parameter resolves to locally. Anything else is refused, naming `where`."""
    if not (isinstance(value, dict) and len(value) == 1):
        return scalar_text(value)
    ((function, argument),) = value.items()
    if function == "Ref":
        if argument not in refs:
            raise TemplateError(f"{where}: no local value for !Ref {argument}")
        return refs[argument]
    if function == "Fn::Sub" and isinstance(argument, str):
        return re.sub(r"\$\{([^}!]+)\}", lambda name: resolve({"Ref": name[1]}, refs, where), argument)
    raise TemplateError(f"{where}: {function} is not emulated locally")
