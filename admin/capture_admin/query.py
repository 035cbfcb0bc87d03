"""`make query`: SQL over what `make dev` stored, with DuckDB, under the names Athena has on AWS.

The running local stack's objects (the same keys and gzip'd NDJSON as Firehose writes on AWS) are
copied to a scratch folder and read as the tables `events` and `recordings`, with the columns
`capture_admin.athena` derives from the stored event's schema and the partition columns `year`,
`month`, `day`, `hour` (strings, as in the Glue tables); `events_deduplicated` is the view of the
template's named query. The Presto functions the named queries use (`from_iso8601_timestamp`,
`date_format`, `json_extract_scalar` with `$["key"]` paths) are macros over DuckDB's own, and the
session's time zone is UTC, as Athena's is, so each named query runs here unchanged.

    make query                                # an interactive prompt
    make query SQL='SELECT event, count(*) FROM events GROUP BY 1'
    make query NAMED='Top events (today)'     # a named query of template.yaml (NAMED=list lists them)
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from capture_admin.athena import (
    DEDUPLICATED_VIEW,
    EVENTS_TABLE,
    PARTITION_KEYS,
    RECORDINGS_TABLE,
    columns,
    deduplicated_view_sql,
    load_schema,
)

_DUCKDB_TYPES = {"string": "VARCHAR", "bigint": "BIGINT", "double": "DOUBLE", "boolean": "BOOLEAN"}
# Presto's functions that the named queries use, in DuckDB's terms.
_MACROS = (
    "CREATE MACRO from_iso8601_timestamp(text) AS CAST(text AS TIMESTAMPTZ)",
    "CREATE MACRO date_format(value, format) AS strftime(value, format)",
    # Presto reads $["$browser"]; DuckDB reads $."$browser".
    """CREATE MACRO json_extract_scalar(doc, path) AS
       json_extract_string(doc, regexp_replace(path, '\\["([^"]*)"\\]', '."\\1"', 'g'))""",
)


def copy_objects(s3: Any, bucket: str, prefix: str, into: Path) -> int:
    """Every object under `prefix`, written below `into` at its own key; how many."""
    count = 0
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for entry in page.get("Contents", []):
            path = into / entry["Key"]
            if ".." in Path(entry["Key"]).parts:
                continue
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(s3.get_object(Bucket=bucket, Key=entry["Key"])["Body"].read())
            count += 1
    return count


def table_sql(name: str, folder: Path, schema: Mapping[str, Any]) -> str:
    """`name` as a view over the gzip'd NDJSON below `folder` (empty while there is none)."""
    fields = columns(schema)
    partitions = [f'"{key}"' for key in PARTITION_KEYS]
    if not any(folder.rglob("*.gz")):
        empty = [f'CAST(NULL AS {_DUCKDB_TYPES[c.type]}) AS "{c.name}"' for c in fields]
        empty += [f"CAST(NULL AS VARCHAR) AS {key}" for key in partitions]
        return f"CREATE VIEW {name} AS SELECT {', '.join(empty)} WHERE false"
    types = ", ".join(f"'{c.key}': '{_DUCKDB_TYPES[c.type]}'" for c in fields)
    selected = ", ".join([*(f'"{c.key}" AS "{c.name}"' for c in fields), *partitions])
    glob = str(folder / "**" / "*.gz").replace("'", "''")
    # Every name is the schema's or this module's (`columns` checks them): nothing comes from a user.
    return (
        f"CREATE VIEW {name} AS SELECT {selected} FROM read_json('{glob}', "  # noqa: S608
        f"format = 'newline_delimited', hive_partitioning = true, hive_types_autocast = false, "
        f"columns = {{{types}}})"
    )


def connect(tables: Mapping[str, Path], schema: Mapping[str, Any]) -> Any:
    """A DuckDB session with these tables (name -> folder), the de-duplicating view and the macros."""
    import duckdb  # noqa: PLC0415 (only `make query` needs it)

    connection = duckdb.connect()
    connection.execute("SET TimeZone = 'UTC'")
    for statement in _MACROS:
        connection.execute(statement)
    for name, folder in tables.items():
        connection.execute(table_sql(name, folder, schema))
    connection.execute(deduplicated_view_sql(schema))
    return connection


def named_queries(template_path: Path) -> dict[str, str]:
    """Every Athena named query of the template, by name. The session has the view already; the
    view's CREATE OR REPLACE, run here, replaces it with the same definition (`athena` writes both)."""
    from capture_local.template import Template  # noqa: PLC0415

    template = Template.load(template_path)
    queries = {}
    for logical_id in template.logical_ids_of_type("AWS::Athena::NamedQuery"):
        properties = template.properties(logical_id)
        queries[properties["Name"]] = properties["QueryString"]
    return queries


def local_session(scratch: Path, endpoint_url: str | None = None) -> Any:
    """A session over the running local stack's events and recordings (copied into `scratch`)."""
    from capture_local import aws, names, state  # noqa: PLC0415
    from capture_local.template import Template  # noqa: PLC0415

    resources = aws.LocalResources.from_template(Template.load(names.DEFAULT_TEMPLATE))
    s3 = aws.client("s3", endpoint_url or state.moto_endpoint(), names.DEFAULT_REGION)
    streams = {
        EVENTS_TABLE: resources.stream(),
        RECORDINGS_TABLE: resources.stream(names.RECORDINGS_STREAM_ID),
    }
    for stream in streams.values():
        copy_objects(s3, stream.bucket_name, stream.prefix, scratch)
    return connect({name: scratch / stream.prefix for name, stream in streams.items()}, load_schema())


def prompt(connection: Any) -> None:
    """Statements end at `;`; an empty input (Ctrl-D) ends the session."""
    import readline  # noqa: F401, PLC0415 (line editing and history for input())

    print(f"Tables: {EVENTS_TABLE}, {RECORDINGS_TABLE}, view {DEDUPLICATED_VIEW}. End a statement with ;")
    lines: list[str] = []
    while True:
        try:
            lines.append(input("query> " if not lines else "  ...> "))
        except EOFError:
            print()
            return
        if lines[-1].rstrip().endswith(";"):
            run(connection, "\n".join(lines))
            lines = []


def run(connection: Any, sql: str) -> bool:
    """Each statement of `sql` in order, with its result printed; the first error ends the run."""
    import duckdb  # noqa: PLC0415

    try:
        # DuckDB's parser splits the text: a `;` may be inside a string literal or a quoted name.
        for statement in connection.extract_statements(sql):
            result = connection.sql(statement.query)
            if result is not None:
                result.show(max_rows=200, max_width=200)
    except duckdb.Error as error:
        print(f"error: {error}", file=sys.stderr)
        return False
    return True


def main(argv: Sequence[str] | None = None) -> int:
    from capture_local import names, state  # noqa: PLC0415

    parser = argparse.ArgumentParser(prog="make query", description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--sql", help="run this, each statement's result printed, and exit (default: an interactive prompt)"
    )
    parser.add_argument("--named", help="run a named query of template.yaml; `list` lists them")
    parser.add_argument("--endpoint-url", help="the moto server (default: the running `make dev`'s)")
    args = parser.parse_args(argv)
    queries = named_queries(names.DEFAULT_TEMPLATE)
    if args.named == "list":
        print("\n".join(queries))
        return 0
    if args.named and args.named not in queries:
        print(f"no named query {args.named!r}; these exist: {', '.join(queries)}", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="capture-query-") as scratch:
        try:
            connection = local_session(Path(scratch), args.endpoint_url)
        except state.NotRunning as error:
            print(error, file=sys.stderr)
            return 1
        if args.sql or args.named:
            return 0 if run(connection, args.sql or queries[args.named]) else 1
        prompt(connection)
    return 0


if __name__ == "__main__":
    sys.exit(main())
