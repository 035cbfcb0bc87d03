"""S3's "Object Created" events through EventBridge, as the local stack gives them: each object
moto stores (by the local Firehose delivery or a function's PutObject) invokes the functions whose
template rules match its bucket and key, one at a time on a thread of their own, as Lambda's
asynchronous invocations do; the request that wrote it never waits for them."""

from __future__ import annotations

import queue
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

Listener = Callable[[str, str, bytes], None]
# Everyone told of each object this process's moto stores: (bucket, key, body).
LISTENERS: list[Listener] = []
_INSTALLED = threading.Lock()
_installed = False


def install() -> None:
    """Make this process's moto tell `LISTENERS` of each object it stores (idempotent)."""
    global _installed  # noqa: PLW0603 (moto's classes are the process's; so is this switch)
    from moto.s3.models import S3Backend  # noqa: PLC0415 (moto is slow to import)

    with _INSTALLED:
        if _installed:
            return
        put_object = S3Backend.put_object

        def notifying_put_object(
            self: Any, bucket_name: str, key_name: str, *args: Any, **kwargs: Any
        ) -> Any:
            stored = put_object(self, bucket_name, key_name, *args, **kwargs)
            value = args[0] if args else kwargs.get("value", b"")
            for listener in list(LISTENERS):
                listener(bucket_name, key_name, bytes(value))
            return stored

        S3Backend.put_object = notifying_put_object  # type: ignore[method-assign]
        _installed = True


def object_created_event(bucket: str, key: str, region: str, account: str) -> dict[str, Any]:
    """The EventBridge event S3 sends for a new object (the fields a rule or a handler reads)."""
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Object Created",
        "source": "aws.s3",
        "account": account,
        "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": region,
        "resources": [f"arn:aws:s3:::{bucket}"],
        "detail": {
            "version": "0",
            "bucket": {"name": bucket},
            "object": {"key": key},
            "reason": "PutObject",
        },
    }


@dataclass(frozen=True)
class Rule:
    bucket: str  # the bucket's local name
    prefixes: tuple[str, ...]

    def matches(self, bucket: str, key: str) -> bool:
        return bucket == self.bucket and key.startswith(self.prefixes)


class Notifier:
    """Invokes `invoke(event)` for each stored object one of `rules` matches, in the order stored, on
    a thread of its own, from `start()` to `stop()`."""

    def __init__(
        self, rules: list[Rule], invoke: Callable[[dict[str, Any]], None], region: str, account: str
    ) -> None:
        self._rules, self._invoke, self._region, self._account = rules, invoke, region, account
        self._queue: queue.Queue[dict[str, Any] | None] = queue.Queue()
        self._idle = threading.Condition()
        self._pending = 0
        self._thread = threading.Thread(target=self._run, name="object-created", daemon=True)

    def start(self) -> Notifier:
        install()
        LISTENERS.append(self._heard)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._heard in LISTENERS:
            LISTENERS.remove(self._heard)
        self._queue.put(None)
        self._thread.join(timeout=10)

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Wait until every object stored so far has been handled; False if `timeout` passed first."""
        with self._idle:
            return self._idle.wait_for(lambda: self._pending == 0, timeout)

    def _heard(self, bucket: str, key: str, body: bytes) -> None:
        if any(rule.matches(bucket, key) for rule in self._rules):
            with self._idle:
                self._pending += 1
            self._queue.put(object_created_event(bucket, key, self._region, self._account))

    def _run(self) -> None:
        while (event := self._queue.get()) is not None:
            try:
                self._invoke(event)
            finally:
                with self._idle:
                    self._pending -= 1
                    self._idle.notify_all()


def object_created_line(event: dict[str, Any], invocation: Any) -> str:
    """The log line of one object counted: what the function did, in a few words."""
    key = event["detail"]["object"]["key"]
    if invocation.error is not None:
        return f"  usage  {key}: failed ({type(invocation.error).__name__}: {invocation.error})"
    result = invocation.result if isinstance(invocation.result, dict) else {}
    counted = result.get("counted") or {}
    unit = "sessions" if result.get("lane") == "recordings" else "events"
    what = ", ".join(f"project {project} +{count} {unit}" for project, count in counted.items()) or "nothing"
    line = f"  usage  {key}: {what}"
    for notice in result.get("notices") or []:
        line += f"\n  quota  {notice}"
    return line
