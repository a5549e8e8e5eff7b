"""Loopback servers for the payments tests: the SumUp sandbox and a webhook receiver.

Both run under uvicorn on a free 127.0.0.1 port in the test's own event loop, so the
client, the sandbox's webhook calls and the receiver all cross real sockets.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field, replace
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from payments import CheckoutNotice, parse_webhook
from payments.sandbox import Sandbox, SandboxSettings, create_sandbox_app
from payments.sumup import SumUpClient
from tests.support.clock import Clock
from tests.support.loopback import serving, serving_in_thread

API_KEY = "sup_sk_sandbox_test_key_0123456789"
MERCHANT = "MTEST123"
# Where the tests' shops live: the sandbox sends browsers and webhooks nowhere else.
SHOP_ORIGINS = ("https://cart.test",)


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
    async with serving(receiver.app()) as o:
        receiver.origin = o
        yield receiver


@asynccontextmanager
async def running_sandbox(
    *, http: httpx.AsyncClient | None = None, **changes: Any
) -> AsyncIterator[SandboxHarness]:
    """A sandbox on loopback; `changes` are SandboxSettings fields to differ from ours."""
    clock = Clock.from_wall_time()
    async with running_receiver() as receiver:
        settings = SandboxSettings(
            api_keys=(API_KEY,),
            merchant_code=MERCHANT,
            allowed_origins=(receiver.origin, *SHOP_ORIGINS),
        )
        app = create_sandbox_app(replace(settings, **changes), http=http, clock=clock)
        async with serving(app) as origin:
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
    clock = Clock.from_wall_time()
    receiver = Receiver()
    with serving_in_thread(receiver.app()) as receiver_origin:
        receiver.origin = receiver_origin
        settings = SandboxSettings(
            api_keys=(API_KEY,),
            allowed_origins=(receiver_origin, *SHOP_ORIGINS),
            merchant_code=MERCHANT,
        )
        app = create_sandbox_app(settings, clock=clock)
        with serving_in_thread(app) as origin:
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
