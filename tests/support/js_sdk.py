"""Running the official JavaScript SDKs' drivers (tests/sdk/js/*.mjs) from pytest.

A driver prints one JSON line, its report, and then holds until its stdin closes: a browser stays
open while the test waits for requests that outlive their page (beacons)."""

from __future__ import annotations

import atexit
import functools
import json
import os
import queue
import subprocess
import tempfile
import threading
from collections import Counter
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from capture_local import DEMO_PROJECT_ID, LocalStack

JS_DIR = Path(__file__).resolve().parents[1] / "sdk" / "js"
NODE_MODULES = JS_DIR / "node_modules"
CHROMIUM = Path("/usr/bin/chromium")


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in {"", "0", "false", "no"}


def require_js_sdks() -> None:
    """Skips when the SDKs are not installed, except in CI, where that is a failure."""
    if NODE_MODULES.is_dir():
        return
    reason = f"the JavaScript SDKs are not installed in {NODE_MODULES} (run `make sdk-deps`)"
    if in_ci():
        pytest.fail(f"{reason}; CI is set, so a missing SDK fails instead of skipping", pytrace=False)
    pytest.skip(reason)


def require_chromium() -> None:
    if not CHROMIUM.is_file():
        pytest.fail(f"{CHROMIUM} is missing (run `make chromium`)", pytrace=False)


@functools.cache
def shared_browser() -> str:
    """The WebSocket endpoint of the session's one Chromium (tests/sdk/js/browser_server.mjs),
    started on first use and closed when the session ends: every browser driver connects to it
    for a context of its own instead of starting a browser."""
    process = subprocess.Popen(
        ["node", "browser_server.mjs", "--chromium", str(CHROMIUM)],
        cwd=JS_DIR,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert process.stdout is not None
    endpoint = process.stdout.readline().strip()
    if not endpoint.startswith("ws://"):
        process.kill()
        pytest.fail(f"the shared Chromium did not start (it printed {endpoint!r})")

    def close() -> None:  # the server closes its Chromium when its stdin does
        assert process.stdin is not None
        process.stdin.close()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()

    atexit.register(close)
    return endpoint


@contextmanager
def running_driver(
    script: str, *args: str, timeout: float, environment: Mapping[str, str] | None = None
) -> Iterator[dict[str, Any]]:
    """Runs `node <script> <args>` in tests/sdk/js (with these environment variables besides the
    process's own) and yields its report; on exit, lets it finish."""
    shared = {"CAPTURE_BROWSER_WS": shared_browser()} if script.startswith("browser_") else {}
    with tempfile.TemporaryFile(mode="w+") as stderr:
        process = subprocess.Popen(
            ["node", script, *args],
            cwd=JS_DIR,
            env={**os.environ, **shared, **(environment or {})},
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
        )
        assert process.stdout is not None
        assert process.stdin is not None
        lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=lambda: lines.put(process.stdout.readline()), daemon=True).start()

        def output() -> str:
            stderr.seek(0)
            return stderr.read()[-4000:]

        try:
            line = lines.get(timeout=timeout)
        except queue.Empty:
            process.kill()
            process.wait()
            pytest.fail(f"{script} printed no report within {timeout} s; its stderr:\n{output()}")
        if not line.strip():
            process.wait(timeout)
            pytest.fail(f"{script} exited {process.returncode} without a report; its stderr:\n{output()}")
        try:
            yield json.loads(line)
        finally:
            process.stdin.close()
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        assert process.returncode == 0, f"{script} exited {process.returncode}; its stderr:\n{output()}"


def assert_stored_once_as_sent(stack: LocalStack, sent: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Every event an SDK sent is stored exactly once, under its uuid, as sent, in the demo project.
    Returns the stored events by uuid."""
    uuids = [event["uuid"] for event in sent]
    assert uuids, "the SDK sent nothing"
    assert len(set(uuids)) == len(uuids), f"the SDK sent one uuid twice: {uuids}"
    stored = [event for event in stack.read_events() if event["uuid"] in set(uuids)]
    assert Counter(event["uuid"] for event in stored) == Counter(dict.fromkeys(uuids, 1))
    by_uuid = {event["uuid"]: event for event in stored}
    for event in sent:
        copy = by_uuid[event["uuid"]]
        assert (copy["event"], copy["distinct_id"]) == (event["event"], event["distinct_id"])
        assert copy["properties"] == event["properties"]
        for field in ("$set", "$set_once"):
            if event.get(field) is not None:
                assert copy[field] == event[field]
        assert (copy["project_id"], copy["token"]) == (DEMO_PROJECT_ID, stack.token)
    return by_uuid
