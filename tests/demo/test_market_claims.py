"""The demo market claims stock as the calendar claims seats, over real HTTP: the last
loaf is sold once, and a market's Reject fails an unpaid order or refunds a paid one."""

from __future__ import annotations

import asyncio
import re

import httpx
from sqlalchemy import select, update

from cart.orders.models import ShopOrder, ShopOrderItem
from demo.market import set_stock
from demo.models import DemoProduct
from tests.demo.conftest import Coop
from tests.demo.shopping import (
    add,
    bakery_key,
    buy,
    check_out,
    latest_order,
    product,
    run_reconciler,
)


async def market_stock(coop: Coop, slug: str) -> int | None:
    async with coop.market.db.transaction() as session:
        row = await session.get(DemoProduct, slug)
        assert row is not None
        return row.stock


async def shop_card(coop: Coop, name: str) -> str:
    async with httpx.AsyncClient(base_url=coop.urls["cart"], timeout=30) as browser:
        page = (await browser.get("/")).text
    return page[page.index(name) :][:1500]


async def orders(coop: Coop) -> list[ShopOrder]:
    async with coop.cart_db.transaction() as session:
        return list((await session.execute(select(ShopOrder).order_by(ShopOrder.id))).scalars())


async def test_two_shoppers_race_for_the_last_loaf_one_order_and_one_clear_refusal(
    followed: Coop,
) -> None:
    coop = followed
    async with coop.market.db.transaction() as session:
        await set_stock(session, coop.market.site, "sourdough", 1)
    await coop.settle()
    assert "1 left" in await shop_card(coop, "Sourdough loaf")

    async with (
        httpx.AsyncClient(base_url=coop.urls["cart"], timeout=30) as ann,
        httpx.AsyncClient(base_url=coop.urls["cart"], timeout=30) as bob,
    ):
        for shopper in (ann, bob):
            assert (await add(shopper, product(coop, "sourdough"))).status_code == 303
        answers = await asyncio.gather(
            check_out(ann, bakery_key(coop)), check_out(bob, bakery_key(coop))
        )
        to_pay = [a for a in answers if "/sumup-sandbox/" in a.headers["location"]]
        refused = [a for a in answers if a.headers["location"].startswith("/cart/page/")]
        assert len(to_pay) == 1 and len(refused) == 1, [a.headers["location"] for a in answers]
        loser = ann if answers[0] is refused[0] else bob
        page = (await loser.get(refused[0].headers["location"])).text
        assert "Your order was not placed" in page and "Sold out" in page
    assert len(await orders(coop)) == 1

    await coop.settle()
    assert await market_stock(coop, "sourdough") == 0, "the market took the loaf"
    assert "Sold out" in await shop_card(coop, "Sourdough loaf")
    (order,) = await orders(coop)
    async with coop.cart_db.transaction() as session:
        claims = await session.execute(
            select(ShopOrderItem.claim_state).where(ShopOrderItem.order_id == order.id)
        )
        assert list(claims.scalars()) == ["claimed"], "the market's Accept claimed the loaf"


async def _market_sold_out_quietly(coop: Coop) -> None:
    """The market sold its loaves elsewhere and has not said so yet."""
    async with coop.market.db.transaction() as session:
        await session.execute(
            update(DemoProduct).where(DemoProduct.id == "sourdough").values(stock=0)
        )


async def test_a_market_reject_before_payment_fails_the_order_and_says_why(
    followed: Coop,
) -> None:
    coop = followed
    await _market_sold_out_quietly(coop)
    async with httpx.AsyncClient(base_url=coop.urls["cart"], timeout=30) as shopper:
        assert (await add(shopper, product(coop, "sourdough"), 2)).status_code == 303
        assert (await check_out(shopper, bakery_key(coop))).status_code == 303
        await coop.settle()
        order = await latest_order(coop)
        assert order.status == "failed"
        page = (await shopper.get(f"/orders/{order.number}")).text
    assert "Sourdough loaf is sold out" in page and "No payment was taken" in page
    assert "Pay now" not in page


async def test_a_market_reject_after_payment_refunds_the_shopper(followed: Coop) -> None:
    coop = followed
    await _market_sold_out_quietly(coop)
    async with httpx.AsyncClient(base_url=coop.urls["cart"], timeout=30) as shopper:
        assert (await add(shopper, product(coop, "sourdough"))).status_code == 303
        order = await buy(coop, shopper, bakery_key(coop))  # paid before the market answered
        assert order.status == "refund_requested"
        await run_reconciler(coop)
        order = await latest_order(coop)
        assert order.status == "refunded"
        page = (await shopper.get(f"/orders/{order.number}")).text
    assert "Sourdough loaf is sold out" in page and "refunded" in page.lower()
    assert await market_stock(coop, "sourdough") == 0, "nothing was taken from the stock"


async def test_a_product_has_its_own_page_with_the_markets_description(followed: Coop) -> None:
    coop = followed
    async with httpx.AsyncClient(base_url=coop.urls["cart"], timeout=30) as shopper:
        card = await shop_card(coop, "Sourdough loaf")
        assert "Slow-risen, baked this morning." in card
        found = re.search(
            r'<a href="(/products/\w+)">Sourdough loaf</a>', (await shopper.get("/")).text
        )
        assert found, "the catalogue card links to the product's page"
        link = found.group(1)
        page = await shopper.get(link)
        assert page.status_code == 200
        assert "<h1>Sourdough loaf</h1>" in page.text
        assert "Slow-risen, baked this morning." in page.text and "12 left" in page.text
        assert (await shopper.get("/products/" + "0" * 32)).status_code == 404
