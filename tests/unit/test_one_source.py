"""Rules written in more than one place are held equal here: the error codes and their OpenAPI
models, v1's error names, the warning filter, the limits the documents quote."""

from __future__ import annotations

import re
import tomllib
import typing
from pathlib import Path

from capture_core import errors, limits
from capture_core.docs import models, openapi
from capture_core.lanes.capture_v1 import V1_TAGS
from capture_core.limits import size_text
from capture_core.observability import NO_METRICS_WARNING
from capture_core.settings import Settings

ROOT = Path(__file__).resolve().parents[2]


def error_classes() -> list[type[errors.CaptureError]]:
    found, pending = [], [errors.CaptureError]
    while pending:
        cls = pending.pop()
        found.append(cls)
        pending.extend(cls.__subclasses__())
    return found


def codes(*statuses: int) -> set[str]:
    return {cls.code for cls in error_classes() if cls.status in statuses and "code" in vars(cls)}


def literal(model: type, field: str = "code") -> set[str]:
    return set(typing.get_args(model.model_fields[field].annotation))


def test_the_openapi_error_models_name_exactly_the_codes_the_api_answers():
    # 415 is capture v1's alone, answered in v1's own format.
    assert literal(models.EventsCaptureClientErrorResponse) == codes(400, 404, 405, 413)
    assert literal(models.EventsCaptureUnauthenticatedResponse) == codes(401)
    assert literal(models.EventsCaptureServerErrorResponse) == codes(500, 503)


def test_every_code_has_a_v1_error_name():
    assert {cls.code for cls in error_classes()} <= set(V1_TAGS)


def test_the_warning_filter_is_the_one_pytest_names():
    configured = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["pytest"]["ini_options"]
    assert f"ignore:{NO_METRICS_WARNING}:UserWarning" in configured["filterwarnings"]


def test_the_documents_quote_the_limits_the_settings_enforce():
    settings = Settings()
    for size in (settings.max_request_bytes, settings.max_payload_bytes, settings.max_event_bytes):
        assert size_text(size) in openapi.DESCRIPTION
    assert settings.max_event_bytes == limits.FIREHOSE_MAX_RECORD_BYTES


def test_the_readme_describes_every_setting_and_every_error_code():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## Configuration") : readme.index("## Limits")]
    for variable, description in Settings.descriptions().items():
        row = next((line for line in section.splitlines() if line.startswith(f"| `{variable}`")), None)
        assert row is not None, variable
        assert description in row, variable
    for code in codes(400, 401, 404, 405, 413, 503):
        assert f"`{code}`" in readme, code


def test_the_readme_shows_the_recorded_bench_table():
    # `make bench-record` writes bench/results.md; the README carries the same table.
    recorded = (ROOT / "bench" / "results.md").read_text(encoding="utf-8")
    table = recorded[recorded.index("Measured ") :].strip()
    assert table in (ROOT / "README.md").read_text(encoding="utf-8")


def test_the_readme_lists_every_project_setting_with_its_option_and_config_field():
    import dataclasses

    from capture_core.auth.project_settings import ProjectSettings

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for spec in dataclasses.fields(ProjectSettings):
        row = next((line for line in readme.splitlines() if line.startswith(f"| `{spec.name}` |")), None)
        assert row is not None, spec.name
        if spec.name != "anonymize_ips":  # set by its own command
            assert f"`{spec.metadata['option']} " in row, spec.name
        assert spec.metadata["config"].split(" ")[0] in row, spec.name


SECTION_CITATION = re.compile(r"(?:docs/)?protocol\.md(?:\)|`)? §\s?(\d+)")


def test_the_docs_and_code_cite_nothing_outside_the_repository():
    """Users have the repository only: a section number (§) is one of docs/protocol.md's, named as
    such, and names a section it has."""
    protocol = (ROOT / "docs" / "protocol.md").read_text(encoding="utf-8")
    sections = set(re.findall(r"^## (\d+)\. ", protocol, re.MULTILINE))
    assert sections == {str(number) for number in range(1, 16)}
    sources = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")), ROOT / "events" / "README.md"]
    sources += [
        path
        for folder in ("layers", "local", "admin", "functions", "bench")
        for path in (ROOT / folder).rglob("*.py")
    ]
    for path in sources:
        text = path.read_text(encoding="utf-8")
        assert "SPEC" not in text, path
        if path.name == "protocol.md":
            continue
        for line in text.splitlines():
            if "§" in line:
                cited = SECTION_CITATION.findall(line)
                assert cited, f"{path}: {line.strip()}"
                assert set(cited) <= sections, f"{path}: {line.strip()}"


def test_the_performance_prose_agrees_with_the_bench_table():
    """The prose beside `make bench`'s table quotes it: a ratio it names is the table's, rounded,
    and the most a cold start adds to boto3's holds for every cold start row."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## Performance and cost") : readme.index("## Configuration")]
    table = section[section.index("<!-- bench table") : section.index("<!-- end of bench table")]
    prose = section.replace(table, "")
    measured = float(re.search(r"\| handler / \(floor \+ botocore's PutRecordBatch\) \| ([\d.]+)x", table)[1])
    quoted = float(re.search(r"The handler spends about ([\d.]+)× the floor plus botocore", prose)[1])
    assert abs(quoted - measured) <= 0.05 + 1e-9, (quoted, measured)
    floor = float(re.search(r"\| cold start floor: boto3 [^|]*, ms \| (\d+)", table)[1])
    cold = re.findall(r"\| cold start \w+_handler \+ first request vs that floor \| (\d+) ms", table)
    assert cold
    most = float(re.search(r"Every function's init and first request take at most about (\d+) ms", prose)[1])
    assert all(float(ms) - floor <= most for ms in cold), (floor, cold)
    quoted = float(re.search(r"and about ([\d.]+)× the floor plus the work any client pays", prose)[1])
    measured = float(re.search(r"\| handler / \(floor \+ irreducible [^|]*\| ([\d.]+)x", table)[1])
    assert abs(quoted - measured) <= 0.05 + 1e-9, (quoted, measured)
