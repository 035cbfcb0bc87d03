"""Refusing connections: the unit tier runs with these in place of the socket's own."""

from __future__ import annotations

from typing import Any


class NetworkBlocked(RuntimeError):
    """A unit test tried to open a connection."""


def refuse(*args: Any, **kwargs: Any) -> Any:
    raise NetworkBlocked("unit tests may not use the network: move this test to tests/integration")
