"""The app's clock is the shopper's time: sessions and payment windows follow it.

The app is built with a test `Clock` (the `app_clock` fixture, overridden here), so what
a shopper sees after "a month" or "half an hour" is what the code does with the time it
was given, not with the machine's.
"""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from starlette.applications import Starlette

from cart.identity.sessions import SESSION_MAX_AGE
from tests.cart.checkout_support import BAKERY_KEY
from tests.cart.shop_support import Shop
from tests.cart.web_support import add, csrf_token, register, seed
from tests.support.clock import Clock
from tests.support.factories import product


@pytest.fixture
def app_clock() -> Clock:
    # From the wall time: the sandbox and signed cookies still read the machine's clock.
    return Clock.from_wall_time()


async def _account_page(client: httpx.AsyncClient) -> httpx.Response:
    return await client.get("/account", follow_redirects=False)


async def test_a_shopper_is_logged_out_once_the_apps_clock_passes_the_sessions_age(
    web_app: Starlette, web_client: httpx.AsyncClient, app_clock: Clock
) -> None:
    assert (await register(web_client)).status_code == 303
    assert (await _account_page(web_client)).status_code == 200

    app_clock.advance(SESSION_MAX_AGE - timedelta(minutes=1))
    assert (await _account_page(web_client)).status_code == 200

    app_clock.advance(timedelta(minutes=2))
    answer = await _account_page(web_client)
    assert answer.status_code == 303 and answer.headers["location"].startswith("/login")


async def test_an_orders_time_to_pay_runs_out_by_the_apps_clock(
    shop: Shop, app_clock: Clock
) -> None:
    (loaf,) = await seed(shop.app, product(42, price="3.50"))
    assert (await add(shop.client, loaf, 2)).status_code == 303
    cart = await shop.client.get(f"/cart/page/{BAKERY_KEY}")
    placed = await shop.client.post(
        f"/cart/page/{BAKERY_KEY}/checkout", data={"csrf_token": csrf_token(cart.text)}
    )
    assert placed.status_code == 303, placed.text

    app_clock.advance(timedelta(minutes=29))
    fresh = await shop.client.get("/orders/RA-000001")
    assert "This order is kept for you until" in fresh.text
    assert "Cancel this order" in fresh.text

    app_clock.advance(timedelta(minutes=2))
    late = await shop.client.get("/orders/RA-000001")
    assert "The time to pay ran out" in late.text
    assert "Cancel this order" not in late.text
