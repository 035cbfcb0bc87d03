"""Replaying golden cases: a request through both functions' routes, with a fixed clock."""

from __future__ import annotations

import base64
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any

from capture_local.rest_event import build_rest_event
from golden.scenarios import NOW, PROJECT_ID, TOKEN
from support.app import CaptureApp
from support.fakes import FakeKeyTable

CASES = Path(__file__).resolve().parent / "cases"
CLOCK = datetime.fromisoformat(NOW)
SERVER_UUID = "<uuidv7>"
RESPONSE_HEADERS = (
    "Content-Type",
    "Access-Control-Allow-Origin",
    "Access-Control-Allow-Credentials",
    "Vary",
    "Access-Control-Allow-Methods",
    "Access-Control-Allow-Headers",
    "Retry-After",
)


def replay(request: dict[str, Any]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The answer and the stored events for a case's request; server-made UUIDs as a placeholder."""
    app = CaptureApp(table=FakeKeyTable.with_project(TOKEN, PROJECT_ID), clock=lambda: CLOCK)
    body = base64.b64decode(request["body_base64"]) if request["body_base64"] is not None else None
    event = build_rest_event(
        request["method"], request["path"], None, request["headers"], request["query"], body, "203.0.113.50",
        request_id="golden", now=CLOCK,
    )  # fmt: skip
    answer = app.invoke(event)
    response = {
        "status": answer.status,
        "headers": {name: answer.headers[name] for name in RESPONSE_HEADERS if name in answer.headers},
        "body": answer.json() if answer.body else None,
    }
    stored = app.stored()
    for item in stored:
        if uuid.UUID(item["uuid"]).version == 7:
            item["uuid"] = SERVER_UUID
    return response, stored
