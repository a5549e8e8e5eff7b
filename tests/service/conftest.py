"""Fixtures shared by the service tests that talk to a served shop over HTTP."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from tests.support import loopback
from tests.support.inbox_peers import Served


@pytest.fixture
async def browser(served: Served) -> AsyncIterator[httpx.AsyncClient]:
    """A client asking for HTML, as a browser does, of the `served` shop."""
    async with loopback.client(
        base_url=served.base_url, headers={"Accept": "text/html"}, timeout=10
    ) as client:
        yield client
