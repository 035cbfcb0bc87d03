"""The README's blocks marked `<!-- runnable -->` run as pasted, against the session's local stack:
shell blocks in bash (`set -e`, from the repository root, with `MOTO_PORT` pointing at the stack),
Python blocks with this interpreter, JavaScript blocks as an ES module beside the test SDKs. Only
the host changes: `localhost:3000` and `127.0.0.1:3000` become the stack's address."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest
from capture_local import LocalStack
from support.js_sdk import JS_DIR, require_js_sdks

pytestmark = [pytest.mark.integration, pytest.mark.timeout(180)]

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
BLOCK = re.compile(r"^<!-- runnable -->\n```(?P<language>\w+)\n(?P<code>.*?)^```$", re.MULTILINE | re.DOTALL)
LIBRARIES = {"python": "posthog-python", "js": "posthog-node"}
HOST = re.compile(r"(?:http://)?(?:localhost|127\.0\.0\.1):3000")


@dataclass(frozen=True)
class Block:
    line: int
    language: str
    code: str

    def __str__(self) -> str:
        return f"README.md:{self.line} ({self.language})"


def runnable_blocks() -> list[Block]:
    text = README.read_text(encoding="utf-8")
    return [
        Block(text.count("\n", 0, match.start()) + 2, match["language"], match["code"])
        for match in BLOCK.finditer(text)
    ]


def run(command: list[str], cwd: Path, environment: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command, cwd=cwd, env=environment, capture_output=True, text=True, timeout=150, check=False
    )


def test_the_readme_marks_the_blocks_a_newcomer_pastes_first():
    languages = [block.language for block in runnable_blocks()]
    assert languages.count("sh") >= 3  # the first try, the key sequence, make query
    assert {"python", "js"} <= set(languages)


@pytest.mark.parametrize("block", runnable_blocks(), ids=str)
def test_a_runnable_block_runs_as_pasted(local_stack: LocalStack, block: Block):
    code = HOST.sub(lambda match: local_stack.api_url if match[0].startswith("http") else local_stack.api_url
                    .removeprefix("http://"), block.code)  # fmt: skip
    environment = {**os.environ, "MOTO_PORT": str(local_stack.moto_port)}
    before = {event["uuid"] for event in local_stack.read_events()}
    if block.language == "sh":
        done = run(["bash", "-euo", "pipefail", "-c", code], ROOT, environment)
    elif block.language == "python":
        done = run([sys.executable, "-c", code], ROOT, environment)
    elif block.language == "js":
        require_js_sdks()
        script = JS_DIR / f"readme-{uuid.uuid4().hex}.mjs"  # beside node_modules, so imports resolve
        script.write_text(code, encoding="utf-8")
        try:
            done = run(["node", script.name], JS_DIR, environment)
        finally:
            script.unlink()
    else:
        pytest.fail(f"{block}: no way to run {block.language!r} blocks")
    assert done.returncode == 0, f"{block} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    assert "Traceback" not in done.stderr, done.stderr
    if block.language in LIBRARIES:  # an SDK logs a failed request and exits 0: check the store
        stored = [e for e in local_stack.read_events() if e["uuid"] not in before]
        assert [e["lib"] for e in stored if e["event"] == "signed_up"] == [LIBRARIES[block.language]]
