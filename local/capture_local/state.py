"""Where a running `make dev` (or `make moto`) serves, in a file of the local stack's folder, so that
`make events` and `capture-keys --local` find it whatever ports it picked. MOTO_PORT still wins."""

import json
import os
from pathlib import Path
from typing import Any

from capture_local.names import STATE_FILE


class NotRunning(RuntimeError):
    def __init__(self) -> None:
        super().__init__("no local stack is running: start one with `make dev` (or set MOTO_PORT)")


def write(api_url: str | None, moto_url: str, path: Path = STATE_FILE) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"api_url": api_url, "moto_url": moto_url, "pid": os.getpid()}) + "\n")


def read(path: Path = STATE_FILE) -> dict[str, Any] | None:
    """What the running stack wrote; None without one: no file, or its process is gone (a stack
    that was killed could not remove it)."""
    try:
        state = dict(json.loads(path.read_text()))
        os.kill(state["pid"], 0)
    except PermissionError:  # the process lives, as another user's
        pass
    except (OSError, ValueError, TypeError, KeyError):
        return None
    return state


def remove(path: Path = STATE_FILE) -> None:
    """Removes the file if this process wrote it (a second `make dev` may have replaced it)."""
    if (read(path) or {}).get("pid") == os.getpid():
        path.unlink()


def moto_endpoint(path: Path = STATE_FILE) -> str:
    """The running local stack's moto URL: MOTO_PORT's if set, else the state file's."""
    if port := os.environ.get("MOTO_PORT", "").strip():
        return f"http://127.0.0.1:{port}"
    if (state := read(path)) is None:
        raise NotRunning
    return str(state["moto_url"])
