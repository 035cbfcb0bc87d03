"""The query layer's columns follow the stored event's schema: types, names, and the generated
blocks of template.yaml."""

from __future__ import annotations

import pytest
from capture_admin import athena


def schema(**fields: dict) -> dict:
    return {"properties": fields}


def test_json_types_become_hive_types():
    found = athena.columns(
        schema(
            a={"type": "string"},
            b={"type": "integer"},
            c={"type": "number"},
            d={"type": "boolean"},
            e={"anyOf": [{"type": "string"}, {"type": "null"}]},
        )
    )
    assert [(c.name, c.type) for c in found] == [
        ("a", "string"),
        ("b", "bigint"),
        ("c", "double"),
        ("d", "boolean"),
        ("e", "string"),
    ]


def test_objects_and_arrays_are_json_text():
    found = athena.columns(
        schema(p={"type": "object"}, q={"anyOf": [{"type": "object"}, {"type": "null"}]}, r={"type": "array"})
    )
    assert {c.type for c in found} == {"string"}


def test_a_key_that_is_no_column_name_is_mapped_back_by_the_serde():
    fields = schema(**{"$set": {"type": "object"}, "Lib_Version": {"type": "string"}})
    assert [c.name for c in athena.columns(fields)] == ["set", "lib_version"]
    assert athena.serde_mappings(fields) == {"mapping.set": "$set", "mapping.lib_version": "Lib_Version"}


@pytest.mark.parametrize(
    "fields",
    [
        {"a": {"anyOf": [{"type": "string"}, {"type": "integer"}]}},
        {"a": {"type": "null"}},
        {"$a": {"type": "string"}, "a": {"type": "string"}},
        {"year": {"type": "string"}},
        {"$": {"type": "string"}},
    ],
)
def test_fields_no_column_can_hold_are_refused(fields: dict):
    with pytest.raises(athena.SchemaError):
        athena.columns(schema(**fields))


def test_render_fills_each_block_and_keeps_the_rest():
    template = (
        "a: 1\n  # BEGIN generated: serde-properties\n  stale: x\n  # END generated: serde-properties\nb: 2\n"
    )
    rendered = athena.render(template, schema(**{"$set": {"type": "object"}}))
    assert rendered.splitlines() == [
        "a: 1",
        "  # BEGIN generated: serde-properties",
        '  case.insensitive: "false"',
        '  mapping.set: "$set"',
        "  # END generated: serde-properties",
        "b: 2",
    ]


def test_render_refuses_an_unknown_or_unterminated_block():
    with pytest.raises(athena.SchemaError):
        athena.render("# BEGIN generated: nothing\n# END generated: nothing\n", schema())
    with pytest.raises(athena.SchemaError):
        athena.render("# BEGIN generated: columns\n", schema())


def test_the_published_schema_gives_a_column_to_every_stored_field():
    names = [c.name for c in athena.columns(athena.load_schema())]
    assert names[:4] == ["uuid", "event", "distinct_id", "properties"]
    assert "set_once" in names


def test_the_local_tables_exist_with_athenas_columns_before_any_event_is_stored(tmp_path):
    from capture_admin import query

    stored = athena.load_schema()
    session = query.connect({"events": tmp_path / "events", "recordings": tmp_path / "recordings"}, stored)
    described = [row[0] for row in session.sql("DESCRIBE events").fetchall()]
    assert described == [column.name for column in athena.columns(stored)] + ["year", "month", "day", "hour"]
    assert session.sql("SELECT count(*) FROM events_deduplicated").fetchall() == [(0,)]
    assert session.sql("SELECT count(*) FROM recordings").fetchall() == [(0,)]
