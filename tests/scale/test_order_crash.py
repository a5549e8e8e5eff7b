"""Real web and worker processes over one PostgreSQL, SIGKILLed during checkout and payment.

Whatever moment the kill hits: an order is either whole (its items and its Create(Order)
in the outbox) or absent with the cart intact; a paid order is paid once and announces
`OrderPaid` once, however many webhooks, return pages and reconcilers race after restart.
"""

from __future__ import annotations

import asyncio
import random
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select, update
from starlette.applications import Starlette

from cart.basket.carts import CartLine
from cart.orders.models import OrderStatusChange, ShopOrder, ShopOrderItem
from outbox.models import OutboxActivity
from payments.sandbox import SandboxSettings, create_sandbox_app
from store import Database, utcnow
from tests.cart.checkout_support import BAKERY_KEY
from tests.cart.web_support import csrf_token
from tests.payments.support import API_KEY, MERCHANT, press
from tests.scale.conftest import Processes, prepared, process_env
from tests.support.factories import offer, product
from tests.support.loopback import free_port, serving

pytestmark = pytest.mark.slow


async def count(db: Database, model: type, *conditions: Any) -> int:
    query = select(func.count()).select_from(model).where(*conditions)
    async with db.transaction() as session:
        return int(await session.scalar(query) or 0)


async def fill_cart(shopper: httpx.AsyncClient, item: str) -> str:
    """Add two loaves through the web; the CSRF token of the page cart's form."""
    page = await shopper.get("/")
    added = await shopper.post(
        "/cart/lines", data={"csrf_token": csrf_token(page.text), "item": item, "quantity": "2"}
    )
    assert added.status_code == 303
    return csrf_token((await shopper.get(f"/cart/page/{BAKERY_KEY}")).text)


def sandbox_app() -> Starlette:
    """A SumUp sandbox shared by every process (the web processes' own would each keep
    their own books): the deployment reaches it with credentials, as it would SumUp."""
    return create_sandbox_app(SandboxSettings(api_keys=(API_KEY,), merchant_code=MERCHANT))


async def setup(
    fresh_postgres: str, tmp_path: Path, sumup: str, sandbox: Starlette
) -> tuple[Database, int, Processes, str]:
    port = free_port()
    origin = f"http://127.0.0.1:{port}"
    sandbox.state.sandbox.allow_origin(origin)
    db, _actor = await prepared(fresh_postgres, tmp_path, origin)
    async with db.transaction() as session:
        item = await offer(session, product(42))
    env = process_env(
        fresh_postgres,
        tmp_path,
        ROSE_CART_BASE_URL=origin,
        ROSE_CART_SUMUP_API_URL=sumup,
        ROSE_CART_SUMUP_API_KEY=API_KEY,
        ROSE_CART_SUMUP_MERCHANT_CODE=MERCHANT,
    )
    return db, port, Processes(env), item


@pytest.mark.parametrize("seed", [11, 12, 13])
async def test_a_web_process_killed_during_checkout_leaves_no_half_order(
    fresh_postgres: str, tmp_path: Path, seed: int
) -> None:
    rng = random.Random(seed)  # noqa: S311 - a reproducible kill moment, not a secret
    sandbox = sandbox_app()
    async with serving(sandbox) as sumup:
        db, port, processes, item = await setup(fresh_postgres, tmp_path, sumup, sandbox)
        try:
            await processes.serve(port)
            origin = f"http://127.0.0.1:{port}"
            async with httpx.AsyncClient(base_url=origin, timeout=10) as shopper:
                token = await fill_cart(shopper, item)
                web = processes.started[-1]

                async def submit() -> None:
                    try:
                        await shopper.post(
                            f"/cart/page/{BAKERY_KEY}/checkout", data={"csrf_token": token}
                        )
                    except httpx.TransportError:
                        pass  # the process died under the request

                request = asyncio.create_task(submit())
                await asyncio.sleep(rng.uniform(0, 0.06))
                await processes.kill(web)
                await request
        finally:
            await processes.kill_all()
        orders = await count(db, ShopOrder)
        lines = await count(db, CartLine)
        items = await count(db, ShopOrderItem)
        creates = await count(db, OutboxActivity, OutboxActivity.activity_type == "Create")
        await db.dispose()
    if orders == 0:
        assert (lines, items, creates) == (1, 0, 0), "nothing ordered, so the cart must be intact"
    else:
        assert (orders, items, creates) == (1, 1, 1), "an order exists only whole"


@pytest.mark.parametrize("seed", [21, 22])
async def test_a_kill_between_the_payment_webhook_and_order_paid_pays_once_and_announces_once(
    fresh_postgres: str, tmp_path: Path, seed: int
) -> None:
    rng = random.Random(seed)  # noqa: S311 - a reproducible kill moment, not a secret
    sandbox = sandbox_app()
    async with serving(sandbox) as sumup:
        db, port, processes, item = await setup(fresh_postgres, tmp_path, sumup, sandbox)
        try:
            await processes.serve(port)
            async with (
                httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10) as shopper,
                httpx.AsyncClient(timeout=10) as browser,
            ):
                token = await fill_cart(shopper, item)
                to_pay = await shopper.post(
                    f"/cart/page/{BAKERY_KEY}/checkout", data={"csrf_token": token}
                )
                assert to_pay.status_code == 303
                paid = await press(browser, to_pay.headers["location"], "pay")
                # SumUp's webhook is on its way to the web process: kill it at a random moment.
                await asyncio.sleep(rng.uniform(0, 0.2))
                await processes.kill(processes.started[-1])

                await processes.serve(port)
                async with db.transaction() as session:  # lost-webhook polling is now due
                    await session.execute(
                        update(ShopOrder).values(created_at=utcnow() - timedelta(minutes=5))
                    )
                # Every path that may pay the order, at once: two reconcilers and the shopper.
                workers = await asyncio.gather(processes.start("worker"), processes.start("worker"))
                back = await shopper.get(paid.headers["location"])
                assert back.status_code == 200
                for _ in range(200):
                    statuses = await count(db, ShopOrder, ShopOrder.status == "paid")
                    if statuses:
                        break
                    await asyncio.sleep(0.05)
                # Let the racing reconcilers finish the turn they are in: stop them and wait.
                await processes.stop(*workers)
        finally:
            await processes.kill_all()
        paid_orders = await count(db, ShopOrder, ShopOrder.status == "paid")
        paid_moves = await count(db, OrderStatusChange, OrderStatusChange.status == "paid")
        announced = await count(db, OutboxActivity, OutboxActivity.activity_type == "OrderPaid")
        await db.dispose()
    assert (paid_orders, paid_moves, announced) == (1, 1, 1)
