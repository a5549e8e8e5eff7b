"""A shopper in the demo co-op, over HTTP: fill a page cart, check out, pay on the
sandbox's hosted page (mounted on the cart's own origin), and the operator's refund."""

from __future__ import annotations

import re
from datetime import timedelta

import httpx
from sqlalchemy import select

from cart.catalog.models import key_for
from cart.orders.models import ShopOrder
from cart.orders.reconcile import reconcile_pending
from payments.sandbox.state import Sandbox
from store import utcnow
from tests.cart.web_support import csrf_token
from tests.demo.conftest import Coop
from tests.payments.support import press


def entry(coop: Coop, slug: str) -> str:
    return f"{coop.urls['calendar']}/entries/{slug}"


def product(coop: Coop, slug: str) -> str:
    return f"{coop.urls['market']}/products/{slug}"


def venue_key(coop: Coop) -> str:
    return key_for(f"{coop.urls['calendar']}/venues/old-school")


def bakery_key(coop: Coop) -> str:
    return key_for(f"{coop.urls['market']}/shops/bakery")


async def add(shopper: httpx.AsyncClient, item: str, quantity: int = 1) -> httpx.Response:
    page = await shopper.get("/")
    return await shopper.post(
        "/cart/lines",
        data={"csrf_token": csrf_token(page.text), "item": item, "quantity": str(quantity)},
    )


async def check_out(shopper: httpx.AsyncClient, page_key: str) -> httpx.Response:
    """Check out, taking the first way of handing over the page offers (its first pickup)."""
    cart = await shopper.get(f"/cart/page/{page_key}")
    form = {"csrf_token": csrf_token(cart.text)}
    offered = re.search(r'name="handover" value="([0-9a-f]+)"', cart.text)
    if offered is not None:
        form["handover"] = offered.group(1)
    return await shopper.post(f"/cart/page/{page_key}/checkout", data=form)


async def buy(coop: Coop, shopper: httpx.AsyncClient, page_key: str) -> ShopOrder:
    """Check the page cart out and pay; the co-op settles; the order as it is then."""
    to_pay = await check_out(shopper, page_key)
    assert to_pay.status_code == 303, to_pay.text
    async with httpx.AsyncClient(timeout=30) as browser:
        paid = await press(browser, to_pay.headers["location"], "pay")
    assert paid.status_code == 303
    await sandbox(coop).webhooks.drain()
    await coop.settle()
    return await latest_order(coop)


def sandbox(coop: Coop) -> Sandbox:
    """The SumUp sandbox mounted on the cart's origin."""
    found: Sandbox = coop.cart.state.payments.sandbox.state.sandbox
    return found


async def latest_order(coop: Coop) -> ShopOrder:
    async with coop.cart_db.transaction() as session:
        order = (await session.execute(select(ShopOrder).order_by(ShopOrder.id.desc()))).scalar()
    assert order is not None
    return order


async def run_reconciler(coop: Coop) -> None:
    """One step of the payment reconciler (refunds, lost webhooks, expiry), then the
    co-op settles. Pending orders are asked about once they are a few minutes old:
    `backdate` them first."""
    state = coop.cart.state
    await reconcile_pending(state.db, state.payments.client, state.actor, now=utcnow())
    await coop.settle()


async def backdate(coop: Coop, order_id: int, by: timedelta) -> None:
    """Make the order `by` older (placed and due that much earlier)."""
    async with coop.cart_db.transaction() as session:
        order = await session.get(ShopOrder, order_id)
        assert order is not None
        order.created_at -= by
        order.valid_until -= by


async def venue_page(coop: Coop) -> str:
    async with httpx.AsyncClient(base_url=coop.urls["calendar"]) as browser:
        return (await browser.get("/entries")).text
