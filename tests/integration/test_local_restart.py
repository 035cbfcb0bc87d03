"""`make dev` keeps its data: a key created and events sent before a restart are there after it,
in a folder a user can read, and `make reset` (deleting it) starts clean. Each stack here is its
own process, as `make dev` is, with its folder in a temporary place (CAPTURE_LOCAL_HOME)."""

from __future__ import annotations

import gzip
import json
import os
import re
import signal
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]


@contextmanager
def dev(home: Path) -> Iterator[tuple[str, str]]:
    """`python -m capture_local dev` on free ports with its folder in `home`: (API URL, banner)."""
    environment = {**os.environ, "CAPTURE_LOCAL_HOME": str(home), "PORT": "0", "MOTO_PORT": "0"}
    process = subprocess.Popen(
        [sys.executable, "-m", "capture_local", "dev"],
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert process.stdout is not None
    banner = []
    try:
        for line in process.stdout:
            banner.append(line)
            if line.startswith("Ctrl-C stops"):
                break
        text = "".join(banner)
        url = re.search(r"^API\s+(http://\S+)", text, re.MULTILINE)
        assert url, text
        yield url[1], text
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=60)
    assert process.returncode == 0


def tool(home: Path, *arguments: str) -> str:
    environment = {**os.environ, "CAPTURE_LOCAL_HOME": str(home)}
    environment.pop("MOTO_PORT", None)
    done = subprocess.run(
        [sys.executable, "-m", *arguments],
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def capture(api_url: str, token: str, event: str) -> int:
    body = json.dumps({"api_key": token, "event": event, "distinct_id": "restart"}).encode()
    request = urllib.request.Request(f"{api_url}/capture/", body, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return int(error.code)


def test_keys_settings_and_events_outlive_a_restart_and_reset_starts_clean(tmp_path: Path):
    home = tmp_path / "local"
    with dev(home) as (api_url, banner):
        assert "0 items and 0 objects kept" in banner
        token = tool(home, "capture_admin", "--local", "create-project", "7", "--name", "kept").strip()
        tool(home, "capture_admin", "--local", "project-settings", "1", "--heatmaps", "on")
        assert capture(api_url, token, "before restart") == 200
    # What a user can read: the tables as JSON lines, the objects as the streams wrote them.
    tables = (home / "data" / "tables").glob("*.jsonl")
    items = [json.loads(line) for path in tables for line in path.read_text().splitlines()]
    assert any(item["key_id"]["S"] == token for item in items)
    objects = list((home / "data" / "objects").rglob("*.gz"))
    assert any(b"before restart" in gzip.decompress(path.read_bytes()) for path in objects)

    with dev(home) as (api_url, banner):
        assert re.search(r"[1-9]\d* items and [1-9]\d* objects kept", banner), banner
        assert capture(api_url, token, "after restart") == 200
        stored = [json.loads(line)["event"] for line in tool(home, "capture_local", "events").splitlines()]
        assert {"before restart", "after restart"} <= set(stored)
        assert stored.count("before restart") == 1
        assert "heatmaps=on" in tool(home, "capture_admin", "--local", "project-settings", "1")

    # `make reset`: the folder gone, the next start is empty and the key unknown.
    subprocess.run(["rm", "-rf", str(home / "data")], check=True)
    with dev(home) as (api_url, banner):
        assert "0 items and 0 objects kept" in banner
        assert capture(api_url, token, "after reset") == 401
