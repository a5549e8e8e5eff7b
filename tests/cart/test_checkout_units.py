"""Checkout holds no request session: it places the order while another request holds one.

With the app's pool of one (tests/support/settings.py), an unconverted request that
holds the async session across a slow wait leaves nothing for a second one. Checkout
places its order in a write unit and reads and keeps the hosted checkout in units too,
so on SQLite (the writer thread and WAL readers have connections of their own) the
shopper still reaches the hosted page.
"""

from __future__ import annotations

import asyncio

from tests.cart.checkout_support import BAKERY_KEY, orders
from tests.cart.shop_support import Shop
from tests.cart.web_support import add, csrf_token, seed
from tests.support.factories import product
from tests.support.held_pool import CEILING, pool_taken


async def test_checkout_reaches_the_hosted_page_while_a_request_holds_the_pool(
    shop: Shop,
) -> None:
    db = shop.app.state.db
    (loaf,) = await seed(shop.app, product(42, price="3.50"))
    assert (await add(shop.client, loaf, 2)).status_code == 303
    page = await shop.client.get(f"/cart/page/{BAKERY_KEY}")
    async with pool_taken(db):
        answer = await asyncio.wait_for(
            shop.client.post(
                f"/cart/page/{BAKERY_KEY}/checkout", data={"csrf_token": csrf_token(page.text)}
            ),
            CEILING,
        )
        assert answer.status_code == 303, answer.text
        assert answer.headers["location"].startswith(shop.sandbox.origin + "/pay/")
    (order,) = await orders(db)
    assert order.checkout_url == answer.headers["location"] and order.status == "pending"
