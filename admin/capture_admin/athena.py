"""`python -m capture_admin.athena`: the query layer's columns, derived from the stored event's one
schema (`schemas/stored-event.schema.json`, which `make openapi` writes from
`capture_core.docs.models.StoredEvent`).

template.yaml's Glue tables (`events`, `recordings`) and the de-duplicating view's named query
are written from here, between `# BEGIN generated: <block>` and `# END generated: <block>`
lines; `make athena` rewrites them and a unit test fails when they differ from the schema.
DuckDB (`make query`) reads the same names.

Decisions:

- Nested objects (`properties`, `$set`, `$set_once`) are `string` columns holding the JSON text:
  properties are free-form per event, so a `struct` would fix a set of keys and a `map` would
  lose their types. Query them with `json_extract_scalar(properties, '$["$browser"]')`.
- A key that is no legal column name (`$set`) gets one without the illegal characters (`set`),
  and the SerDe maps it back (`mapping.set` = `$set`).
- Keys are read case-sensitively (`case.insensitive` = `false`): a column reads exactly its key,
  so no casing a client chooses can make a line unreadable (`serde_properties`).
- Integers are `bigint`: a project id or a client's number may pass 2^31.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = ROOT / "schemas" / "stored-event.schema.json"
TEMPLATE = ROOT / "template.yaml"

# The names queries use, in Athena and in DuckDB alike.
EVENTS_TABLE, RECORDINGS_TABLE = "events", "recordings"
DEDUPLICATED_VIEW = "events_deduplicated"
# Firehose's prefixes put these in every object's key: events/year=2026/month=01/day=02/hour=03/.
PARTITION_KEYS = ("year", "month", "day", "hour")

_HIVE_TYPES = {"string": "string", "integer": "bigint", "number": "double", "boolean": "boolean"}
_ILLEGAL = re.compile(r"[^a-z0-9_]")


class SchemaError(ValueError):
    """The schema has a field the query layer cannot type."""


@dataclass(frozen=True, slots=True)
class Column:
    name: str  # the column's name in Athena and DuckDB
    type: str  # its Hive type
    key: str  # the stored event's JSON key
    comment: str = ""


def _json_type(spec: Mapping[str, Any], field: str) -> str:
    if "anyOf" in spec:
        kinds = [option for option in spec["anyOf"] if option.get("type") != "null"]
        if len(kinds) != 1:
            raise SchemaError(f"{field}: only one type besides null can be a column")
        return _json_type(kinds[0], field)
    kind = spec.get("type")
    if kind in ("object", "array"):
        return "string"  # the JSON text
    if kind not in _HIVE_TYPES:
        raise SchemaError(f"{field}: no column type for {kind!r}")
    return _HIVE_TYPES[kind]


def columns(schema: Mapping[str, Any]) -> list[Column]:
    """The stored event's fields as columns, in the schema's order."""
    found = []
    for key, spec in schema["properties"].items():
        name = _ILLEGAL.sub("", key.lower())
        if not name or name in PARTITION_KEYS:
            raise SchemaError(f"{key}: no column name can be made from it")
        found.append(Column(name, _json_type(spec, key), key, spec.get("description", "")))
    if len({column.name for column in found}) != len(found):
        raise SchemaError("two fields give the same column name")
    return found


def load_schema(path: Path = SCHEMA) -> dict[str, Any]:
    return dict(json.loads(path.read_text(encoding="utf-8")))


def serde_mappings(schema: Mapping[str, Any]) -> dict[str, str]:
    """`mapping.<column>` SerDe properties for the columns named apart from their key."""
    return {f"mapping.{c.name}": c.key for c in columns(schema) if c.name != c.key}


def serde_properties(schema: Mapping[str, Any]) -> dict[str, str]:
    """The OpenX SerDe's key handling: case-sensitive, and a mapping for every column whose key is
    not its name.

    By default the SerDe lower-cases every key of a line, nested ones included, and then fails the
    whole query on a line whose keys differ only in case (`{"Plan": 1, "plan": 2}` in properties,
    `Token` beside `token`): "Duplicate key". Clients choose their keys, so any client could break
    every query of an hour's partition. Read case-sensitively, a column reads exactly its key (as
    DuckDB does for `make query`), and other casings stay in the object's JSON text.
    """
    return {"case.insensitive": "false", **serde_mappings(schema)}


def deduplicated_view_sql(schema: Mapping[str, Any]) -> str:
    """The view that keeps one copy of each event (docs/protocol.md §7: a retry may store one twice, both with
    its uuid). Copies are compared within a day of arrival, so a query on the view that filters
    year, month and day still reads only those partitions."""
    names = [_quoted(c.name) for c in columns(schema)] + list(PARTITION_KEYS)
    selected = ",\n  ".join(", ".join(names[i : i + 6]) for i in range(0, len(names), 6))
    window = ", ".join((*PARTITION_KEYS[:3], "uuid"))
    # Every name is this module's own or the schema's, checked by `columns`: nothing comes from a user.
    return (
        f"CREATE OR REPLACE VIEW {DEDUPLICATED_VIEW} AS\n"  # noqa: S608
        f"SELECT\n  {selected}\n"
        f"FROM (\n"
        f'  SELECT *, row_number() OVER (PARTITION BY {window} ORDER BY "now") AS copy_number\n'
        f"  FROM {EVENTS_TABLE}\n"
        f")\n"
        f"WHERE copy_number = 1\n"
    )


def _quoted(name: str) -> str:
    return f'"{name}"'


# The template's generated blocks.


def _columns_block(schema: Mapping[str, Any], indent: str) -> list[str]:
    lines = []
    for column in columns(schema):
        lines.append(f"{indent}- Name: {column.name}")
        lines.append(f"{indent}  Type: {column.type}")
        if column.comment:
            lines.append(f"{indent}  Comment: {json.dumps(column.comment)}")
    return lines


def _serde_block(schema: Mapping[str, Any], indent: str) -> list[str]:
    return [f'{indent}{name}: "{key}"' for name, key in serde_properties(schema).items()]


def _view_block(schema: Mapping[str, Any], indent: str) -> list[str]:
    sql = deduplicated_view_sql(schema).splitlines()
    return [f"{indent}QueryString: |", *(f"{indent}  {line}" for line in sql)]


BLOCKS = {"columns": _columns_block, "serde-properties": _serde_block, "deduplicated-view": _view_block}
_BEGIN = re.compile(r"^(?P<indent>\s*)# BEGIN generated: (?P<block>[a-z-]+)")


def render(template: str, schema: Mapping[str, Any]) -> str:
    """`template` with every generated block written from `schema`."""
    out: list[str] = []
    lines = iter(template.splitlines())
    for line in lines:
        out.append(line)
        begin = _BEGIN.match(line)
        if not begin:
            continue
        block, indent = begin["block"], begin["indent"]
        if block not in BLOCKS:
            raise SchemaError(f"template.yaml: no generated block {block!r}")
        for inner in lines:
            if inner.strip() == f"# END generated: {block}":
                out.extend(BLOCKS[block](schema, indent))
                out.append(inner)
                break
        else:
            raise SchemaError(f"template.yaml: no end to the generated block {block!r}")
    return "\n".join(out) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    check = arguments == ["--check"]
    if arguments and not check:
        print("usage: python -m capture_admin.athena [--check]", file=sys.stderr)
        return 2
    current = TEMPLATE.read_text(encoding="utf-8")
    wanted = render(current, load_schema())
    if check:
        if current != wanted:
            print("template.yaml's query columns differ from the schema: run `make athena`", file=sys.stderr)
            return 1
        return 0
    if current != wanted:
        TEMPLATE.write_text(wanted, encoding="utf-8")
        print("template.yaml: query columns rewritten from schemas/stored-event.schema.json")
    return 0


if __name__ == "__main__":
    sys.exit(main())
