"""Replaying golden cases: a request through both functions' routes, with a fixed clock."""

from __future__ import annotations

import base64
import json
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any

from capture_core.auth.key_items import ProjectSettings
from capture_local.rest_event import build_rest_event
from golden.scenarios import NOW, PROJECT_ID, RECORDING_PROJECT_ID, RECORDING_TOKEN, TOKEN
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
    "Cache-Control",
)
REQUEST_ID = "00000000-0000-4000-8000-000000000000"  # flags answers' requestId, fixed


def replay(request: dict[str, Any]) -> tuple[dict[str, Any], list[dict[str, Any]], list[dict[str, Any]]]:
    """The answer, the stored events and the stored recordings for a case's request; server-made
    UUIDs as a placeholder."""
    table = FakeKeyTable.with_project(TOKEN, PROJECT_ID)
    table.add_project(RECORDING_TOKEN, RECORDING_PROJECT_ID, settings=ProjectSettings(session_recording=True))
    app = CaptureApp(table=table, clock=lambda: CLOCK, request_ids=lambda: REQUEST_ID)
    body = base64.b64decode(request["body_base64"]) if request["body_base64"] is not None else None
    event = build_rest_event(
        request["method"], request["path"], None, request["headers"], request["query"], body, "203.0.113.50",
        request_id="golden", now=CLOCK,
    )  # fmt: skip
    answer = app.invoke(event)
    response = {
        "status": answer.status,
        "headers": {name: answer.headers[name] for name in RESPONSE_HEADERS if name in answer.headers},
        "body": _body(answer.headers.get("Content-Type", ""), answer.body),
    }
    stored, recordings = app.stored(), app.stored_recordings()
    for item in (*stored, *recordings):
        if uuid.UUID(item["uuid"]).version == 7:
            item["uuid"] = SERVER_UUID
    return response, stored, recordings


def _body(content_type: str, body: str) -> Any:
    """JSON answers as values (compared field by field), scripts as their text."""
    if not body:
        return None
    return json.loads(body) if content_type.startswith("application/json") else body
