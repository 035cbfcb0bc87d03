"""The HTTP messages the local API Gateway handles, and the record of each exchange, which tests
read back exactly as it crossed the wire: preflights and beacons included, which a browser's own
instrumentation hides or loses when the page unloads."""

import threading
import time
from collections.abc import Callable, Sequence
from typing import NamedTuple

Headers = Sequence[tuple[str, str]]  # as sent: spelling, order and repeated names kept


class Request(NamedTuple):
    method: str
    target: str  # the path and query as sent: "/e/?compression=gzip-js"
    headers: Headers
    body: bytes  # a chunked body read whole
    source_ip: str


class Response(NamedTuple):  # every answer: a function's, API Gateway's own, what the server writes
    status: int
    headers: Headers
    body: bytes


class Exchange(NamedTuple):
    method: str
    target: str
    request_headers: Headers
    body: bytes
    status: int
    response_headers: Headers
    response_body: bytes


def header(headers: Headers, name: str) -> str | None:
    """The last value of header `name`, whatever its case; None without one."""
    return next((value for key, value in reversed(headers) if key.lower() == name.lower()), None)


class Recorder:  # the exchanges of a while, in the order they were answered
    def __init__(self) -> None:
        self._exchanges: list[Exchange] = []
        self._changed = threading.Condition()

    def record(self, request: Request, response: Response) -> None:
        with self._changed:
            self._exchanges.append(Exchange(*request[:4], *response))
            self._changed.notify_all()

    @property
    def exchanges(self) -> list[Exchange]:
        with self._changed:
            return list(self._exchanges)

    def wait_for(self, done: Callable[[list[Exchange]], bool], timeout: float) -> list[Exchange]:
        """The exchanges once `done(exchanges)` holds; an AssertionError after `timeout` seconds
        (a beacon arrives after its page is gone, so a test cannot know when to look)."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while not done(list(self._exchanges)):
                if not self._changed.wait(deadline - time.monotonic()):
                    raise AssertionError(f"the expected requests did not arrive within {timeout} s")
            return list(self._exchanges)
