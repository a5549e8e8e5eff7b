"""Numbers from the network are ASCII digits: `'²'.isdigit()` is true and `int('²')` raises.

Every numeric input a shopper or a peer controls, spelled with a superscript or another
script's digits, is a clear 400/404 (or the form's own message), never a 500, and
changes nothing. Over real HTTP: the whole app under uvicorn on loopback.
"""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import select

from cart.basket.carts import CartLine
from tests.cart.web_support import csrf_token, line_ids
from tests.support import loopback
from tests.support.factories import offer, product
from tests.support.inbox_peers import Served
from tests.support.settings import SQLITE_ONLY
from tests.support.state import snapshot


@pytest.fixture
def over_the_network() -> bool:
    return True  # issue 14's findings as a stranger sends them: over real HTTP to uvicorn


# Parsing digits is the same on both engines.
pytestmark = SQLITE_ONLY
NOT_DIGITS = ["²", "١٢", "1²", "٣"]


async def seed_loaf(served: Served) -> str:
    async with served.db.transaction() as session:
        return await offer(session, product(1, name="Loaf"))


async def lines(served: Served) -> list[tuple[str, int]]:
    async with served.db.transaction() as session:
        rows = await session.execute(select(CartLine.item_ap_id, CartLine.quantity))
        return sorted((item, quantity) for item, quantity in rows.all())


@pytest.mark.parametrize("bad", NOT_DIGITS)
async def test_a_quantity_in_other_digits_is_the_forms_message_not_a_500(
    served: Served, browser: httpx.AsyncClient, bad: str
) -> None:
    loaf = await seed_loaf(served)
    token = csrf_token((await browser.get("/")).text)
    added = await browser.post(
        "/cart/lines", data={"csrf_token": token, "item": loaf, "quantity": "2", "next": "/cart"}
    )
    assert added.status_code == 303
    (line,) = line_ids((await browser.get("/cart")).text)
    before = await lines(served)

    for path in ("/cart/lines", f"/cart/lines/{line}/quantity"):
        answer = await browser.post(
            path, data={"csrf_token": token, "item": loaf, "quantity": bad, "next": "/cart"}
        )
        assert answer.status_code == 303, answer.text
        page = (await browser.get("/cart")).text
        assert "whole number" in page
    assert await lines(served) == before == [(loaf, 2)]


@pytest.mark.parametrize("bad", NOT_DIGITS)
async def test_an_order_number_in_other_digits_is_not_found(
    served: Served, browser: httpx.AsyncClient, bad: str
) -> None:
    before = await snapshot(served.db)
    answer = await browser.get(f"/orders/RA-{bad}")
    assert answer.status_code == 404, answer.text
    back = await browser.get("/checkout/return", params={"order": f"RA-{bad}"})
    assert back.status_code < 500, back.text
    assert await snapshot(served.db) == before


@pytest.mark.parametrize("bad", NOT_DIGITS)
@pytest.mark.parametrize(
    "path",
    ["/followers?page={}", "/following?page={}", "/actor/outbox?page=true&max_id={}"],
)
async def test_a_collection_page_in_other_digits_is_a_400(
    served: Served, bad: str, path: str
) -> None:
    async with loopback.client(timeout=10) as client:
        answer = await client.get(
            served.base_url + path.format(bad), headers={"Accept": "application/activity+json"}
        )
    assert answer.status_code == 400, answer.text
    assert answer.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize("bad", NOT_DIGITS)
async def test_a_catalogue_position_in_other_digits_is_the_first_page(
    served: Served, browser: httpx.AsyncClient, bad: str
) -> None:
    await seed_loaf(served)
    first = await browser.get("/")
    answer = await browser.get("/", params={"from": bad})
    assert answer.status_code == 200, answer.text
    assert "Loaf" in answer.text and "Loaf" in first.text


@pytest.mark.parametrize("digits", [19, 5000])  # past a row id; past int()'s 4,300 digits
@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/cart/lines/{}/quantity"),
        ("POST", "/cart/lines/{}/accept-price"),
        ("POST", "/cart/lines/{}/remove"),
        ("GET", "/admin/mail/{}"),
    ],
)
async def test_a_row_id_longer_than_any_row_is_no_route(
    served: Served, browser: httpx.AsyncClient, digits: int, method: str, path: str
) -> None:
    before = await snapshot(served.db)
    answer = await browser.request(method, path.format("1" * digits))
    assert answer.status_code == 404, answer.text
    assert await snapshot(served.db) == before
