"""The local stack (moto, the template's resources and functions, the API) for the whole session.

While it runs, its environment (fake AWS credentials, the functions' variables) is the process's.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from capture_local import LocalStack
from support.wire_tap import WireTap


@pytest.fixture(scope="session")
def local_stack() -> Iterator[LocalStack]:
    with LocalStack(port=0, moto_port=0, access_log=False) as stack:
        yield stack


@pytest.fixture(autouse=True)
def _resources(request: pytest.FixtureRequest) -> None:
    # moto's state is process-wide: a `mock_aws` test elsewhere in the session resets it.
    if "local_stack" in request.fixturenames:
        request.getfixturevalue("local_stack").provision()


@pytest.fixture
def wire_tap(local_stack: LocalStack) -> Iterator[WireTap]:
    """A recording proxy in front of the local API: point an SDK at `wire_tap.url` and read back
    each request and answer as it crossed the wire."""
    with WireTap(local_stack.api_url) as tap:
        yield tap
