"""The shopper's checkout through the web layer, with the SumUp sandbox on loopback.

The sandbox sends no webhooks here (`webhook_shape="none"`): each test plays SumUp's
webhook itself when it wants one, so what reaches the app is exactly what is tested.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from tests.cart.checkout_support import BAKERY_KEY, VENUE_KEY, kinds, orders, published
from tests.cart.shop_support import Shop
from tests.cart.web_support import (
    add,
    csrf_token,
    new_client,
    seed,
)
from tests.payments.support import press
from tests.support.factories import entry, product
from tests.support.state import snapshot


async def _fill_cart(shop: Shop, price: str = "3.50") -> None:
    (loaf,) = await seed(shop.app, product(42, price=price))
    assert (await add(shop.client, loaf, 2)).status_code == 303


async def _check_out(shop: Shop) -> httpx.Response:
    page = await shop.client.get(f"/cart/page/{BAKERY_KEY}")
    return await shop.client.post(
        f"/cart/page/{BAKERY_KEY}/checkout", data={"csrf_token": csrf_token(page.text)}
    )


async def _to_hosted_page(shop: Shop) -> str:
    answer = await _check_out(shop)
    assert answer.status_code == 303, answer.text
    location = answer.headers["location"]
    assert location.startswith(shop.sandbox.origin + "/pay/")
    return location


def _path(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


async def test_checkout_sends_the_shopper_to_the_hosted_page_and_empties_that_cart(
    shop: Shop,
) -> None:
    await _fill_cart(shop)
    hosted = await _to_hosted_page(shop)

    (order,) = await orders(shop.app.state.db)
    assert order.checkout_url == hosted and order.status == "pending"
    cart = await shop.client.get(f"/cart/page/{BAKERY_KEY}")
    assert "Sourdough loaf" not in cart.text
    hosted_page = await shop.sandbox.browser.get(hosted)
    assert "7.00" in hosted_page.text


async def test_a_checkout_without_the_csrf_token_places_nothing(shop: Shop) -> None:
    await _fill_cart(shop)
    answer = await shop.client.post(f"/cart/page/{BAKERY_KEY}/checkout", data={})
    assert answer.status_code == 403
    assert await orders(shop.app.state.db) == []


async def test_a_double_submit_reaches_the_same_order_and_the_same_hosted_page(
    shop: Shop,
) -> None:
    await _fill_cart(shop)
    page = await shop.client.get(f"/cart/page/{BAKERY_KEY}")
    form = {"csrf_token": csrf_token(page.text)}
    first = await shop.client.post(f"/cart/page/{BAKERY_KEY}/checkout", data=form)
    second = await shop.client.post(f"/cart/page/{BAKERY_KEY}/checkout", data=form)

    assert first.headers["location"] == second.headers["location"]
    assert len(await orders(shop.app.state.db)) == 1


async def test_a_changed_price_sends_the_shopper_back_with_the_reason(shop: Shop) -> None:
    await _fill_cart(shop)
    await seed(shop.app, product(42, price="3.90"))  # the market changed it meanwhile

    answer = await _check_out(shop)

    assert answer.status_code == 303 and answer.headers["location"] == f"/cart/page/{BAKERY_KEY}"
    back = await shop.client.get(answer.headers["location"])
    assert "Your order was not placed" in back.text and "£3.90" in back.text
    assert await orders(shop.app.state.db) == []


async def test_paid_and_returned_without_any_webhook_the_return_page_says_paid(
    shop: Shop,
) -> None:
    await _fill_cart(shop)
    hosted = await _to_hosted_page(shop)

    back = await press(shop.sandbox.browser, hosted, "pay")
    assert back.status_code == 303
    page = await shop.client.get(_path(back.headers["location"]))

    assert page.status_code == 200
    assert "RA-000001 is paid" in page.text and "£7.00" in page.text
    assert kinds(await published(shop.app.state.db)) == ["Create", "OrderPaid"]


async def test_a_declined_card_is_explained_and_the_shopper_can_try_again(shop: Shop) -> None:
    await _fill_cart(shop)
    hosted = await _to_hosted_page(shop)
    await press(shop.sandbox.browser, hosted, "decline")

    page = await shop.client.get("/checkout/return?order=RA-000001")

    assert "did not go through" in page.text and "No money was taken" in page.text
    again = await shop.client.post(
        "/orders/RA-000001/pay", data={"csrf_token": csrf_token(page.text)}
    )
    assert again.status_code == 303 and again.headers["location"] == hosted


@pytest.mark.parametrize("shape", ["legacy", "event"])
async def test_a_webhook_alone_marks_the_order_paid(shop: Shop, shape: str) -> None:
    await _fill_cart(shop)
    hosted = await _to_hosted_page(shop)
    await press(shop.sandbox.browser, hosted, "pay")
    (order,) = await orders(shop.app.state.db)

    body: dict[str, Any] = (
        {"event_type": "CHECKOUT_STATUS_CHANGED", "id": order.checkout_id}
        if shape == "legacy"
        else {
            "id": "evt-1",
            "event_type": "checkout.status.updated",
            "payload": {"checkout_id": order.checkout_id, "status": "PAID"},
        }
    )
    answer = await shop.client.post("/webhooks/sumup", content=json.dumps(body))

    assert answer.status_code in (200, 204)
    (order,) = await orders(shop.app.state.db)
    assert order.status == "paid"


async def test_a_webhook_nested_too_deeply_is_a_body_we_do_not_know(shop: Shop) -> None:
    await _fill_cart(shop)
    await _to_hosted_page(shop)
    before = await snapshot(shop.app.state.db)
    deep = '{"a":' * 5000 + "1" + "}" * 5000  # 30 KB, under the body cap
    answer = await shop.client.post("/webhooks/sumup", content=deep)
    assert answer.status_code == 204, answer.text
    assert await snapshot(shop.app.state.db) == before


async def test_a_forged_webhook_changes_nothing(shop: Shop) -> None:
    await _fill_cart(shop)
    await _to_hosted_page(shop)
    (order,) = await orders(shop.app.state.db)

    forged = {
        "id": "evt-forged",
        "event_type": "checkout.status.updated",
        "payload": {"checkout_id": order.checkout_id, "status": "PAID", "reference": "x"},
    }
    answer = await shop.client.post("/webhooks/sumup", content=json.dumps(forged))

    assert answer.status_code in (200, 204)
    (order,) = await orders(shop.app.state.db)
    assert order.status == "pending"
    assert kinds(await published(shop.app.state.db)) == ["Create"]


async def test_a_webhook_for_an_unknown_checkout_is_answered_without_calling_out(
    shop: Shop,
) -> None:
    before = shop.provider.calls
    unknown = {"event_type": "CHECKOUT_STATUS_CHANGED", "id": "not-one-of-ours"}
    junk = b"not json"
    assert (
        await shop.client.post("/webhooks/sumup", content=json.dumps(unknown))
    ).status_code == 204
    assert (await shop.client.post("/webhooks/sumup", content=junk)).status_code == 204
    assert shop.provider.calls == before


async def test_orders_list_and_detail_show_items_totals_and_history(shop: Shop) -> None:
    await _fill_cart(shop)
    hosted = await _to_hosted_page(shop)
    back = await press(shop.sandbox.browser, hosted, "pay")
    await shop.client.get(_path(back.headers["location"]))

    listing = await shop.client.get("/orders")
    detail = await shop.client.get("/orders/RA-000001")

    assert "RA-000001" in listing.text and "Paid" in listing.text
    assert "Sourdough loaf" in detail.text and "£7.00" in detail.text
    assert detail.text.index("Order placed") < detail.text.index("Payment received")
    async with new_client(shop.app) as stranger:
        assert (await stranger.get("/orders/RA-000001")).status_code == 404
        assert "RA-000001" not in (await stranger.get("/orders")).text


async def test_a_july_class_reads_19_bst_on_the_order_page(shop: Shop) -> None:
    july = datetime(2027, 7, 17, 18, 0, tzinfo=UTC)  # 19:00 in London
    (lesson,) = await seed(shop.app, replace(entry(9, start=july), time_zone="Europe/London"))
    assert (await add(shop.client, lesson, 1)).status_code == 303
    page = await shop.client.get(f"/cart/page/{VENUE_KEY}")
    answer = await shop.client.post(
        f"/cart/page/{VENUE_KEY}/checkout", data={"csrf_token": csrf_token(page.text)}
    )
    assert answer.status_code == 303
    (order,) = await orders(shop.app.state.db)
    detail = (await shop.client.get(f"/orders/{order.number}")).text
    assert "Saturday 17 July 2027, 19:00 BST" in detail


async def test_a_guest_gives_name_and_email_at_checkout_and_the_order_keeps_them(
    shop: Shop,
) -> None:
    await _fill_cart(shop)
    page = await shop.client.get(f"/cart/page/{BAKERY_KEY}")
    assert 'name="email"' in page.text and 'autocomplete="name"' in page.text
    form = {"csrf_token": csrf_token(page.text), "name": "Ada", "email": "not-an-address"}
    refused = await shop.client.post(f"/cart/page/{BAKERY_KEY}/checkout", data=form)
    assert refused.headers["location"] == f"/cart/page/{BAKERY_KEY}"
    assert "an e-mail address" in (await shop.client.get(refused.headers["location"])).text
    assert await orders(shop.app.state.db) == []

    form |= {"email": "ada@example.org", "phone": "01632 960000"}
    placed = await shop.client.post(f"/cart/page/{BAKERY_KEY}/checkout", data=form)
    assert placed.status_code == 303
    (order,) = await orders(shop.app.state.db)
    assert (order.contact_name, order.contact_email, order.contact_phone) == (
        "Ada",
        "ada@example.org",
        "01632 960000",
    )
    (created,) = [a for a in await published(shop.app.state.db) if "Create" in str(a["type"])]
    assert "ada@example.org" not in json.dumps(created) and "Ada" not in json.dumps(created)
