"""Loopback servers for the payments tests: the SumUp sandbox and a webhook receiver.

Both run under uvicorn on a free 127.0.0.1 port in the test's own event loop, so the
client, the sandbox's webhook calls and the receiver all cross real sockets.
"""

from __future__ import annotations

import asyncio
import re
import socket
import threading
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from payments import CheckoutNotice, parse_webhook
from payments.sandbox import Sandbox, create_sandbox_app
from payments.sumup import SumUpClient

API_KEY = "sup_sk_sandbox_test_key_0123456789"
MERCHANT = "MTEST123"
# Where the tests' shops live: the sandbox sends browsers and webhooks nowhere else.
SHOP_ORIGINS = ("https://cart.test",)


@asynccontextmanager
async def serve(app: Any) -> AsyncIterator[str]:
    """Run ``app`` on a free loopback port; yields its origin."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        app, lifespan="on", log_level="warning", ws="none", http="h11", access_log=False
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        for _ in range(500):
            if server.started or task.done():
                break
            await asyncio.sleep(0.01)
        if not server.started:
            raise RuntimeError("uvicorn did not start")
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task
        sock.close()


@contextmanager
def serve_in_thread(app: Any) -> Iterator[str]:
    """Run ``app`` on a free loopback port in its own thread and event loop.

    For servers shared by many tests: starting uvicorn costs little, stopping it costs a
    main-loop tick, and the payments tests would otherwise pay that hundreds of times.
    """
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        app, lifespan="on", log_level="warning", ws="none", http="h11", access_log=False
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        for _ in range(500):
            if server.started or not thread.is_alive():
                break
            time.sleep(0.01)
        if not server.started:
            raise RuntimeError("uvicorn did not start")
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


class Clock:
    """The sandbox's clock, moved by tests instead of waiting for expiry."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC).replace(microsecond=0)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> None:
        self.now += delta


@dataclass
class Receiver:
    """The shop's side of the webhook: records every body SumUp (the sandbox) posts."""

    origin: str = ""
    bodies: list[bytes] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"{self.origin}/webhooks/sumup"

    def notices(self, checkout_id: str) -> list[CheckoutNotice]:
        """The webhooks received so far that point at ``checkout_id``, in order."""
        found = (parse_webhook(body) for body in list(self.bodies))
        return [notice for notice in found if notice and notice.checkout_id == checkout_id]

    def app(self) -> Starlette:
        async def hook(request: Request) -> Response:
            self.bodies.append(await request.body())
            return Response(status_code=204)

        return Starlette(routes=[Route("/webhooks/sumup", hook, methods=["POST"])])


@dataclass
class SandboxHarness:
    origin: str
    sandbox: Sandbox
    clock: Clock
    client: SumUpClient
    receiver: Receiver
    browser: httpx.AsyncClient


@asynccontextmanager
async def running_receiver() -> AsyncIterator[Receiver]:
    receiver = Receiver()
    async with serve(receiver.app()) as o:
        receiver.origin = o
        yield receiver


@asynccontextmanager
async def running_sandbox(**options: Any) -> AsyncIterator[SandboxHarness]:
    clock = Clock()
    settings: dict[str, Any] = {"api_key": API_KEY, "merchant_code": MERCHANT, "clock": clock}
    async with running_receiver() as receiver:
        allowed = [receiver.origin, *SHOP_ORIGINS]
        app = create_sandbox_app(**{"allowed_origins": allowed, **settings, **options})
        async with serve(app) as origin:
            async with SumUpClient(
                api_key=API_KEY, merchant_code=MERCHANT, base_url=origin
            ) as client:
                async with httpx.AsyncClient(timeout=10) as browser:
                    sandbox = app.state.sandbox
                    yield SandboxHarness(origin, sandbox, clock, client, receiver, browser)


@dataclass
class SharedSandbox:
    """One sandbox and one receiver in a background thread, for a whole test session."""

    origin: str
    sandbox: Sandbox
    clock: Clock
    receiver: Receiver


@contextmanager
def shared_sandbox() -> Iterator[SharedSandbox]:
    clock = Clock()
    receiver = Receiver()
    with serve_in_thread(receiver.app()) as receiver_origin:
        receiver.origin = receiver_origin
        app = create_sandbox_app(
            api_key=API_KEY,
            allowed_origins=[receiver_origin, *SHOP_ORIGINS],
            merchant_code=MERCHANT,
            clock=clock,
        )
        with serve_in_thread(app) as origin:
            yield SharedSandbox(origin, app.state.sandbox, clock, receiver)


TOKEN = re.compile(r'name="token" value="([^"]+)"')


async def press(browser: httpx.AsyncClient, page_url: str, action: str) -> httpx.Response:
    """What a shopper does on the hosted page: load it, press Pay or Decline."""
    page = await browser.get(page_url)
    assert page.status_code == 200, page.text
    match = TOKEN.search(page.text)
    assert match, "the hosted page offers no payment form"
    return await browser.post(
        page_url, data={"token": match.group(1), "action": action}, follow_redirects=False
    )
