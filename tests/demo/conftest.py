"""The demo co-op on loopback: a real cart, the demo market and the demo calendar.

Each is a real HTTP server on its own port with its own SQLite file and keys; they
find each other's keys over HTTP and sign everything. Workers do not run by
themselves: `Coop.settle()` steps every worker until nothing is left to do.
"""

from __future__ import annotations

import shutil
import socket
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from starlette.applications import Starlette

from demo.calendar import calendar_node
from demo.market import market_node
from demo.node import DemoNode, NodeConfig
from service.app import create_app
from service.federation import Federation, follow_peers
from service.settings import Peer, Settings
from store import Database, sqlite_url_for
from tests.conftest import TEST_SECRET
from tests.support.loopback import free_socket, origin_of, serving


@dataclass
class Coop:
    cart: Starlette
    market: DemoNode
    calendar: DemoNode
    urls: dict[str, str]

    @property
    def federation(self) -> Federation:
        federation: Federation = self.cart.state.federation
        return federation

    @property
    def cart_db(self) -> Database:
        db: Database = self.cart.state.db
        return db

    async def settle(self, rounds: int = 30) -> None:
        """Step every worker, in turn, until a whole round finds nothing to do."""
        federation = self.federation
        for _ in range(rounds):
            work = await federation.delivery_worker.step()
            work += await self.market.step() + await self.calendar.step()
            work += await federation.inbox_worker.step()
            work += await federation.backfills.step() is not None
            if not work:
                return
        raise AssertionError(f"the co-op was still busy after {rounds} rounds")


def _bind() -> tuple[socket.socket, str]:
    sock = free_socket()
    return sock, origin_of(sock)


@asynccontextmanager
async def _served(app: Starlette, sock: socket.socket) -> AsyncIterator[None]:
    async with app.router.lifespan_context(app), serving(app, sock, lifespan="off"):
        yield


def _data_dir(tmp_path: Path, name: str, template: Path) -> Path:
    # A migrated copy: the store's migrations then have nothing left to do at start-up.
    folder = tmp_path / name
    folder.mkdir()
    shutil.copy(template, folder / "rose-cart.sqlite3")
    return folder


@pytest.fixture
async def coop(tmp_path: Path, sqlite_template: Path) -> AsyncIterator[Coop]:
    (cart_sock, cart_url), (market_sock, market_url), (calendar_sock, calendar_url) = (
        _bind(),
        _bind(),
        _bind(),
    )
    cart_actor = f"{cart_url}/actor"
    market = market_node(
        NodeConfig(
            base_url=market_url,
            username="market",
            name="The Co-op Market",
            data_dir=_data_dir(tmp_path, "market", sqlite_template),
            cart=cart_actor,
            workers=False,
        )
    )
    calendar = calendar_node(
        NodeConfig(
            base_url=calendar_url,
            username="calendar",
            name="The Co-op Calendar",
            data_dir=_data_dir(tmp_path, "calendar", sqlite_template),
            cart=cart_actor,
            workers=False,
        )
    )
    cart_dir = _data_dir(tmp_path, "cart", sqlite_template)
    settings = Settings(
        base_url=cart_url,
        data_dir=cart_dir,
        database_url=sqlite_url_for(cart_dir),
        secret_key=TEST_SECRET,
        workers=False,
        allow_private_addresses=True,
        sumup_sandbox=True,
        peers=(Peer("market", f"{market_url}/actor"), Peer("calendar", f"{calendar_url}/actor")),
    )
    cart = create_app(settings)
    async with AsyncExitStack() as stack:
        await stack.enter_async_context(_served(market.app(), market_sock))
        await stack.enter_async_context(_served(calendar.app(), calendar_sock))
        await stack.enter_async_context(_served(cart, cart_sock))
        urls = {"cart": cart_url, "market": market_url, "calendar": calendar_url}
        yield Coop(cart, market, calendar, urls)


@pytest.fixture
async def followed(coop: Coop) -> Coop:
    """The co-op after the cart followed both peers and mirrored their catalogues."""
    sent = await follow_peers(coop.cart_db, coop.cart.state.actor, coop.cart.state.settings)
    assert sent == 2
    await coop.settle()
    return coop
