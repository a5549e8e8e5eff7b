"""An inbox served in process, its peers for real on their own loopback ports.

What the inbox tests are about is what the inbox does with a signed delivery, not the
socket it came over: our app is reached through httpx.ASGITransport (`in_process`), while
each peer serves its actor document and keys over real HTTP, since fetching a key is the
network part of verifying a signature.

A plugin of the whole suite (tests/conftest.py), so any folder takes `served`, `market`,
`calendar`, `coop`, `blog` or `stranger` as parameters without importing them. A module
overrides `extra_peers` (further PEERS entries) or `inbox_settings_extra` to change what
the served app trusts, and `over_the_network` to serve it on a real loopback port;
`deliver_and_process` sends one activity and applies it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from starlette.applications import Starlette

from service.app import create_app
from service.settings import Peer, Settings
from store import Database
from tests.support.loopback import free_socket, in_process, origin_of, serving
from tests.support.peers import RemotePeer, remote_peer
from tests.support.settings import TEST_SECRET
from vocab.contexts import outgoing_context


@dataclass
class Served:
    app: Starlette
    base_url: str
    db: Database

    @property
    def inbox(self) -> str:
        return f"{self.base_url}/actor/inbox"

    @property
    def shared_inbox(self) -> str:
        return f"{self.base_url}/inbox"


@pytest.fixture
async def market() -> AsyncIterator[RemotePeer]:
    async with remote_peer("market") as peer:
        yield peer


@pytest.fixture
async def stranger() -> AsyncIterator[RemotePeer]:
    async with remote_peer("stranger") as peer:
        yield peer


@pytest.fixture
async def calendar() -> AsyncIterator[RemotePeer]:
    async with remote_peer("calendar") as peer:
        yield peer


@pytest.fixture
async def coop() -> AsyncIterator[RemotePeer]:
    async with remote_peer("coop") as peer:
        yield peer


@pytest.fixture
async def blog() -> AsyncIterator[RemotePeer]:
    """The co-op's blog: where pages live; markets and calendars only reference them."""
    async with remote_peer("blog") as peer:
        yield peer


async def deliver_and_process(served: Served, peer: RemotePeer, activity: dict[str, Any]) -> None:
    """The peer delivers one signed activity; the inbox worker applies it."""
    answer = await peer.deliver(served.inbox, {**activity, "@context": outgoing_context()})
    assert answer.status_code == 202, answer.text
    assert await served.app.state.federation.inbox_worker.step() == 1


@pytest.fixture
def inbox_settings_extra() -> dict[str, object]:
    return {}


@pytest.fixture
def extra_peers() -> tuple[Peer, ...]:
    """Further PEERS entries; a module overrides this to add a calendar or a coop."""
    return ()


@pytest.fixture
def over_the_network() -> bool:
    """False: our app is reached in process. A module whose tests are about what a
    stranger can do to us over the network (issue 14's findings) overrides this to True,
    and the app is then served by uvicorn on a loopback port of its own."""
    return False


@pytest.fixture
async def served(
    tmp_path: Path,
    database_url: str,
    market: RemotePeer,
    db: Database,
    inbox_settings_extra: dict[str, object],
    extra_peers: tuple[Peer, ...],
    over_the_network: bool,
) -> AsyncIterator[Served]:
    sock = free_socket()  # held from the start, so BASE_URL is the port that serves it
    base_url = origin_of(sock)
    settings = Settings(
        base_url=base_url,
        data_dir=tmp_path,
        database_url=database_url,
        secret_key=TEST_SECRET,
        workers=False,
        allow_private_addresses=True,
        peers=(Peer("market", market.actor_id), *extra_peers),
        **inbox_settings_extra,  # type: ignore[arg-type]
    )
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        if over_the_network:
            async with serving(app, sock, lifespan="off"):
                yield Served(app, base_url, db)
        else:
            sock.close()  # never dialled: requests for it go to the app in process
            with in_process(base_url, app):
                yield Served(app, base_url, db)
