"""The unit tier cannot reach the network, not even loopback: a test that needs a server belongs in
tests/integration."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest
from capture_core.observability import metrics
from support.network import refuse


@pytest.fixture(autouse=True)
def _no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    # Per test, not per session: a session-wide patch would outlive the unit tier and block the
    # integration tests that run after it.
    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


@pytest.fixture
def fresh_metrics() -> Iterator[None]:
    """Each test reads only the metrics its own requests added (`support.app.metric_totals`)."""
    metrics.metric_set.clear()
    yield
    metrics.metric_set.clear()
