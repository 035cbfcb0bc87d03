"""The unit tier cannot reach the network, not even loopback: a test that needs a server belongs in
tests/integration."""

from __future__ import annotations

import socket

import pytest
from support.network import refuse


@pytest.fixture(autouse=True)
def _no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    # Per test, not per session: a session-wide patch would outlive the unit tier and block the
    # integration tests that run after it.
    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
