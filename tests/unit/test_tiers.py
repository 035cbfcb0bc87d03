"""The tiers keep to themselves: no network in the unit tier, and no other tier's settings in it."""

from __future__ import annotations

import os
import socket

import pytest
from capture_core.settings import Settings
from support.network import NetworkBlocked


def test_the_unit_tier_cannot_open_a_connection():
    with pytest.raises(NetworkBlocked), socket.socket() as probe:
        probe.connect(("127.0.0.1", 9))


def test_the_functions_settings_are_the_defaults_here():
    # Nothing the local stack (or any other tier) sets reaches this process's environment.
    assert not [
        name for name in os.environ if name.endswith(("_STREAM_NAME", "_TABLE_NAME", "_ENDPOINT_URL"))
    ]
    assert Settings.from_environment() == Settings()
