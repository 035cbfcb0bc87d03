"""`make help` tells a newcomer what each target does, in plain words."""

from __future__ import annotations

import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_make_help_lists_the_targets_without_make_syntax():
    done = subprocess.run(
        ["make", "--no-print-directory", "help"], cwd=ROOT, capture_output=True, text=True, check=True
    )
    targets = {line.split()[0] for line in done.stdout.splitlines() if line.strip()}
    assert {
        "dev",
        "test",
        "unit",
        "events",
        "recordings",
        "query",
        "bench",
        "bench-record",
        "build",
    } <= targets
    assert "$(" not in done.stdout
