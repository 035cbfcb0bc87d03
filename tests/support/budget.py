"""How many examples a property test draws: the full count in CI (`CI=true`), at most 50
on a developer's machine, so `make unit` takes seconds."""

from __future__ import annotations

import os

IN_CI = os.environ.get("CI", "").strip().lower() not in {"", "0", "false", "no"}
LOCAL_MAX_EXAMPLES = 50


def examples(count: int) -> int:
    return count if IN_CI else min(count, LOCAL_MAX_EXAMPLES)
