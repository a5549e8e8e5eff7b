"""Pickup or delivery through the web: the checkout form offers what the page publishes, the
fee is in the amount the provider is asked to charge, and the order page says how it comes."""

from __future__ import annotations

import re
from dataclasses import replace

from tests.cart.checkout_support import BAKERY_KEY, orders
from tests.cart.shop_support import Shop
from tests.cart.web_support import add, csrf_token, seed
from tests.support.factories import BAKERY, product
from tests.support.factories import BIKE_DELIVERY as BIKE
from tests.support.factories import SATURDAY_PICKUP as SATURDAY


async def _cart(shop: Shop) -> tuple[str, dict[str, str]]:
    """Two loaves from a bakery offering a pickup and a delivery; the form and its radios."""
    (loaf,) = await seed(shop.app, product(42, page=replace(BAKERY, fulfilment=(SATURDAY, BIKE))))
    assert (await add(shop.client, loaf, 2)).status_code == 303
    page = (await shop.client.get(f"/cart/page/{BAKERY_KEY}")).text
    radios = dict(
        (label, key)
        for key, label in re.findall(
            r'name="handover" value="([0-9a-f]+)" required> <strong>([^<]+)</strong>', page
        )
    )
    return page, radios


async def test_the_form_offers_the_pages_pickup_and_delivery_with_window_and_fee(
    shop: Shop,
) -> None:
    page, radios = await _cart(shop)
    assert list(radios) == ["Saturday stall", "Bike"]
    assert "Saturday 6 July 2030, 08:00 to 11:00 BST" in page
    assert 'delivery fee <span class="price">£2.50</span>' in page
    assert 'name="address"' in page and 'autocomplete="street-address"' in page


async def test_the_cart_overview_offers_the_same_choices_as_the_page_cart(shop: Shop) -> None:
    _, radios = await _cart(shop)
    overview = (await shop.client.get("/cart")).text
    offered = re.findall(
        r'name="handover" value="([0-9a-f]+)" required> <strong>([^<]+)</strong>', overview
    )
    assert [(label, key) for key, label in offered] == list(radios.items())
    assert 'delivery fee <span class="price">£2.50</span>' in overview


async def test_a_delivery_without_an_address_is_sent_back_with_the_reason(shop: Shop) -> None:
    page, radios = await _cart(shop)
    form = {"csrf_token": csrf_token(page), "name": "Ada", "email": "ada@example.org"}
    refused = await shop.client.post(
        f"/cart/page/{BAKERY_KEY}/checkout", data=form | {"handover": radios["Bike"]}
    )
    assert refused.headers["location"] == f"/cart/page/{BAKERY_KEY}"
    again = (await shop.client.get(refused.headers["location"])).text
    assert "address to deliver to" in again
    assert await orders(shop.app.state.db) == []


async def test_the_delivery_fee_is_charged_and_the_order_page_says_how_it_comes(
    shop: Shop,
) -> None:
    page, radios = await _cart(shop)
    form = {
        "csrf_token": csrf_token(page),
        "name": "Ada",
        "email": "ada@example.org",
        "handover": radios["Bike"],
        "address": "1 Lime Street\nTown",
        "fee": "0.00",  # a field the form never had: the fee comes from the page
    }
    answer = await shop.client.post(f"/cart/page/{BAKERY_KEY}/checkout", data=form)
    assert answer.status_code == 303
    hosted = await shop.sandbox.browser.get(answer.headers["location"])
    assert "9.50" in hosted.text  # 2 x £3.50 + £2.50, charged

    (order,) = await orders(shop.app.state.db)
    detail = (await shop.client.get(f"/orders/{order.number}")).text
    assert "Delivery fee" in detail and "£2.50" in detail and "£9.50" in detail
    assert "Bike" in detail and "Ring road" in detail and "1 Lime Street" in detail


async def test_a_pickup_order_page_shows_the_place_and_the_window(shop: Shop) -> None:
    page, radios = await _cart(shop)
    form = {"csrf_token": csrf_token(page), "handover": radios["Saturday stall"]}
    assert (
        await shop.client.post(f"/cart/page/{BAKERY_KEY}/checkout", data=form)
    ).status_code == 303
    (order,) = await orders(shop.app.state.db)
    assert order.total_amount == 7
    detail = (await shop.client.get(f"/orders/{order.number}")).text
    assert "Pickup" in detail and "Saturday stall" in detail and "Market hall" in detail
    assert "Saturday 6 July 2030, 08:00 to 11:00 BST" in detail
