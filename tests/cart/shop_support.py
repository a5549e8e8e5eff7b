"""The shop the checkout web tests drive: the app with its checkout and order routes, the
SumUp sandbox on loopback sending no webhooks, and a provider that counts its calls.

The fixture `shop` is in tests/support/web_fixtures.py; a test takes it by name.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
from starlette.applications import Starlette

from tests.payments.support import SandboxHarness


class CountingProvider:
    """The sandbox's client, counting the calls the app makes to the provider."""

    def __init__(self, inner: Any) -> None:
        self.inner, self.calls = inner, 0

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self.inner, name)
        if not callable(attribute):
            return attribute

        async def counted(*args: Any, **kwargs: Any) -> Any:
            self.calls += 1
            return await attribute(*args, **kwargs)

        return counted


@dataclass
class Shop:
    app: Starlette
    sandbox: SandboxHarness
    client: httpx.AsyncClient
    provider: CountingProvider
