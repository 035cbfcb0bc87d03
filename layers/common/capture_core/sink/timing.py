"""Calls that end by a deadline: AWS clients chosen by their timeouts, and the wait between tries.

Both writers (Firehose, and the direct path to S3) retry on their own within the request's time,
so botocore's retries are off in their clients and these are the one policy.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any


class TimeBoundClients:
    """Clients of one service by timeout, made on first use by `make(connect_timeout, read_timeout)`.

    botocore fixes a client's timeouts when it is made, so a call near the deadline goes through a
    client whose timeouts end before it, and no call is made that could end after it.
    """

    def __init__(self, make: Callable[[float, float], Any], timeouts: Sequence[tuple[float, float]]) -> None:
        self._make = make
        self._timeouts = sorted(timeouts, key=sum, reverse=True)
        self._clients: dict[tuple[float, float], Any] = {}

    def fits(self, seconds: float) -> bool:
        """Can any call end within `seconds`?"""
        return sum(self._timeouts[-1]) <= seconds

    def within(self, seconds: float) -> Any | None:
        """The client with the longest timeouts that still end within `seconds`, or None."""
        for timeouts in self._timeouts:
            if sum(timeouts) <= seconds:
                if timeouts not in self._clients:
                    self._clients[timeouts] = self._make(*timeouts)
                return self._clients[timeouts]
        return None


def full_jitter(cap: float) -> float:
    return random.uniform(0, cap)  # noqa: S311 (spreading retries, not a secret)


@dataclass(frozen=True)
class Backoff:
    """Capped exponential backoff with full jitter: the wait before try `attempt + 1` is drawn by
    `jitter(cap)` from [0, min(max_delay, base_delay * 2**attempt)]."""

    base_delay: float = 0.05
    max_delay: float = 2.0
    jitter: Callable[[float], float] = full_jitter

    def wait(self, attempt: int) -> float:
        return self.jitter(min(self.max_delay, self.base_delay * 2**attempt))


@dataclass(frozen=True)
class Pacing:
    """How a writer spends a request's time: its clients by timeout, at most `budget_seconds` a
    request and never past the caller's deadline (a `clock()` value), and `backoff` between tries."""

    clients: TimeBoundClients
    budget_seconds: float
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep
    backoff: Backoff = Backoff()

    def deadline(self, caller_deadline: float) -> float:
        """This request's deadline for the writer: its budget from now, within the caller's."""
        return min(caller_deadline, self.clock() + self.budget_seconds)

    def client(self, deadline: float) -> Any | None:
        """The client for a call that must end by `deadline`; None when none can."""
        return self.clients.within(deadline - self.clock())

    def pause(self, attempt: int, deadline: float) -> bool:
        """Wait before try `attempt + 1`, if a call can still end by `deadline` after the wait;
        whether it waited (False: give up now)."""
        delay = self.backoff.wait(attempt)
        if not self.clients.fits(deadline - self.clock() - delay):
            return False
        self.sleep(delay)
        return True
