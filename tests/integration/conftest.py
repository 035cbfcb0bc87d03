"""The local stack (moto, the template's resources and functions, the API) for the whole session.

It leaves the process environment alone: each function's environment is its own.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from capture_local import LocalStack, Recorder

_BEFORE_ANY_STACK = dict(os.environ)


@pytest.fixture(scope="session")
def environment_before_stack() -> dict[str, str]:
    """The process environment as it was before any local stack started."""
    return _BEFORE_ANY_STACK


@pytest.fixture(scope="session")
def local_stack() -> Iterator[LocalStack]:
    # A key cache of a second, so that a quota reached or a setting changed is in force at once.
    with LocalStack(
        port=0, moto_port=0, log_requests=False, overrides={"KEY_CACHE_TTL_SECONDS": "1"}
    ) as stack:
        yield stack


@pytest.fixture(autouse=True)
def _settled(request: pytest.FixtureRequest) -> Iterator[None]:
    """What a test's stored objects set off (the usage counter, on a thread of its own) ends with
    the test, so that none of its output lands in another test's captured stdout."""
    yield
    if "local_stack" in request.fixturenames:
        request.getfixturevalue("local_stack").settle()


@pytest.fixture
def wire(local_stack: LocalStack) -> Iterator[Recorder]:
    """Every exchange the local API answers during the test, as it crossed the wire: point an SDK
    at `local_stack.api_url` and read back each request and answer."""
    with local_stack.recording() as recorder:
        yield recorder
