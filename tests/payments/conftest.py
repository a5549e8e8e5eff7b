"""Fixtures for the payments tests (helpers live in ``support``)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from payments.sumup import SumUpClient
from tests.payments.support import (
    API_KEY,
    MERCHANT,
    SandboxHarness,
    SharedSandbox,
    shared_sandbox,
)


@pytest.fixture(scope="session")
def shared() -> Iterator[SharedSandbox]:
    """The sandbox most tests share; each test uses its own references and checkouts."""
    with shared_sandbox() as running:
        yield running


@pytest.fixture
async def harness(shared: SharedSandbox) -> AsyncIterator[SandboxHarness]:
    async with SumUpClient(api_key=API_KEY, merchant_code=MERCHANT, base_url=shared.origin) as c:
        async with httpx.AsyncClient(timeout=10) as browser:
            yield SandboxHarness(
                shared.origin, shared.sandbox, shared.clock, c, shared.receiver, browser
            )
