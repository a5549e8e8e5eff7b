"""The whole service on a loopback port, as `rose-cart serve` runs it, for tests over HTTP.

`live_shop` binds a free 127.0.0.1 port first (so BASE_URL is known before the app is
built), runs the app under uvicorn with its lifespan in the test's event loop, and gives
back the origin and the app (for `app.state.db` and friends). Settings default to a
sandbox shop with no workers; pass any `Settings` field to change that, and `pacer` for
per-client pacing of your own (a test clock, or `unpaced()` where a test is about what lies
behind it: the database quotas).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from starlette.applications import Starlette

from service.app import create_app
from service.pacing import Pacer
from service.settings import Settings
from tests.cart.web_support import csrf_token
from tests.conftest import TEST_SECRET
from tests.support.loopback import free_socket, origin_of, serving


@dataclass
class LiveShop:
    origin: str
    app: Starlette

    def client(self, **options: Any) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=self.origin, timeout=30, **options)


def unpaced() -> Pacer:
    """Pacing that paces nothing, for tests of the database quotas behind it."""
    return Pacer.off()


@asynccontextmanager
async def live_shop(
    data_dir: Path, database_url: str, *, pacer: Pacer | None = None, **settings: Any
) -> AsyncIterator[LiveShop]:
    sock = free_socket()
    origin = origin_of(sock)
    options: dict[str, Any] = {
        "base_url": origin,
        "data_dir": data_dir,
        "database_url": database_url,
        "secret_key": TEST_SECRET,
        "workers": False,
        "sumup_sandbox": True,
        "allow_private_addresses": True,
    }
    app = create_app(Settings(**{**options, **settings}), pacer=pacer)
    async with serving(app, sock):
        yield LiveShop(origin, app)


async def fill_page_cart(shopper: httpx.AsyncClient, item: str, page_key: str) -> str:
    """Put one `item` in the shopper's cart through the web; the page cart's CSRF token."""
    page = await shopper.get("/")
    added = await shopper.post(
        "/cart/lines", data={"csrf_token": csrf_token(page.text), "item": item, "quantity": "1"}
    )
    assert added.status_code == 303, added.text
    return csrf_token((await shopper.get(f"/cart/page/{page_key}")).text)
