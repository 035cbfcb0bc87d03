"""The unit tier cannot reach the network, not even loopback: a test that needs a server belongs in
tests/integration."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest
from support.network import refuse


@pytest.fixture(autouse=True, scope="session")
def _no_network() -> Iterator[None]:
    patch = pytest.MonkeyPatch()
    patch.setattr(socket.socket, "connect", refuse)
    patch.setattr(socket.socket, "connect_ex", refuse)
    patch.setattr(socket, "create_connection", refuse)
    yield
    patch.undo()
