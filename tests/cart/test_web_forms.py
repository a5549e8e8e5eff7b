"""The cart forms, without JavaScript: add, change quantity, remove; login adopts the cart."""

from __future__ import annotations

import httpx
import pytest
from starlette.applications import Starlette

from tests.cart.web_support import (
    add,
    line_ids,
    login,
    logout,
    new_client,
    post_form,
    register,
    seed,
)
from tests.support.clock import Clock
from tests.support.factories import entry, product


@pytest.fixture
def app_clock() -> Clock:
    """The shop's clock at the factories' NOW: their entries start four days after it,
    so they are on sale whatever day the suite runs (the wall clock passed one of them)."""
    return Clock()


async def test_adding_goes_back_to_the_page_the_shopper_was_on_and_says_what_happened(
    web_app: Starlette, web_client: httpx.AsyncClient
) -> None:
    (loaf,) = await seed(web_app, product(1, name="Loaf"))
    response = await add(web_client, loaf, 2, next_path="/")
    back = response.headers["location"]
    assert response.status_code == 303 and back.startswith("/#item-")  # back to the item
    page = (await web_client.get("/")).text
    assert f'id="{back[2:]}" tabindex="-1"' in page
    assert "Added to your cart: Loaf (you now have 2)." in page
    assert "Added to your cart" not in (await web_client.get("/")).text  # a notice is shown once


async def test_adding_more_of_a_product_or_a_ticket_merges_into_one_line(
    web_app: Starlette, web_client: httpx.AsyncClient
) -> None:
    loaf, course = await seed(web_app, product(1, name="Loaf"), entry(9, name="Baking course"))
    await add(web_client, loaf, 2)
    await add(web_client, loaf, 3)
    await add(web_client, course)
    again = await add(web_client, course, next_path="/cart")
    assert again.headers["location"] == "/cart"
    page = (await web_client.get("/cart")).text
    assert 'name="quantity" value="5"' in page and 'name="quantity" value="2"' in page
    assert len(line_ids(page)) == 2


async def test_stock_bounds_the_quantity_and_the_shopper_is_told(
    web_app: Starlette, web_client: httpx.AsyncClient
) -> None:
    (loaf,) = await seed(web_app, product(1, name="Loaf", stock=3))
    await add(web_client, loaf, 5)
    page = (await web_client.get("/cart")).text
    assert "Only 3 of Loaf left, so your cart has 3." in page
    assert 'name="quantity" value="3"' in page


async def test_changing_a_quantity_and_removing_a_line(
    web_app: Starlette, web_client: httpx.AsyncClient
) -> None:
    loaf, rolls = await seed(
        web_app, product(1, name="Loaf", price="2.00"), product(2, name="Rolls")
    )
    await add(web_client, loaf)
    await add(web_client, rolls)
    first, second = line_ids((await web_client.get("/cart")).text)
    changed = await post_form(
        web_client, f"/cart/lines/{first}/quantity", {"quantity": "4", "next": "/cart"}
    )
    assert changed.status_code == 303
    page = (await web_client.get("/cart")).text
    assert "Quantity updated." in page and "£8.00" in page
    removed = await post_form(web_client, f"/cart/lines/{second}/remove", {"next": "/cart"})
    assert removed.status_code == 303
    page = (await web_client.get("/cart")).text
    assert "Removed from your cart." in page and line_ids(page) == [first]
    zero = await post_form(
        web_client, f"/cart/lines/{first}/quantity", {"quantity": "0", "next": "/cart"}
    )
    assert zero.status_code == 303
    assert "Your cart is empty." in (await web_client.get("/cart")).text


async def test_a_quantity_that_is_not_a_number_changes_nothing_and_says_why(
    web_app: Starlette, web_client: httpx.AsyncClient
) -> None:
    (loaf,) = await seed(web_app, product(1, name="Loaf"))
    await add(web_client, loaf, 2)
    (line,) = line_ids((await web_client.get("/cart")).text)
    for bad in ("two", "-1", "1.5", "", "99999999"):
        response = await post_form(
            web_client, f"/cart/lines/{line}/quantity", {"quantity": bad, "next": "/cart"}
        )
        assert response.status_code == 303 and response.headers["location"] == "/cart"
        page = (await web_client.get("/cart")).text
        assert "quantity" in page.split('role="status"')[1].split("</div>")[0]
        assert 'name="quantity" value="2"' in page


async def test_an_unavailable_item_is_not_added_and_the_shopper_is_told(
    web_app: Starlette, web_client: httpx.AsyncClient
) -> None:
    (rye,) = await seed(web_app, product(2, name="Rye", stock=0))
    response = await add(web_client, rye, next_path="/")
    assert response.headers["location"] == "/"
    assert "Rye: Sold out." in (await web_client.get("/")).text
    assert "Your cart is empty." in (await web_client.get("/cart")).text


async def test_an_unknown_item_answers_404(web_client: httpx.AsyncClient) -> None:
    response = await add(web_client, "https://market.example/products/404")
    assert response.status_code == 404
    assert "We could not find that product or event." in response.text


async def test_a_next_pointing_elsewhere_is_ignored(
    web_app: Starlette, web_client: httpx.AsyncClient
) -> None:
    (loaf,) = await seed(web_app, product(1))
    for target in (
        "https://evil.example/",
        "//evil.example/x",
        "/\\evil.example",
        "javascript:alert(1)",
    ):
        response = await add(web_client, loaf, next_path=target)
        assert response.headers["location"] == "/cart"


async def test_login_adopts_the_anonymous_cart_and_tells_what_changed(web_app: Starlette) -> None:
    loaf, course, rolls = await seed(
        web_app, product(1, name="Loaf"), entry(9, name="Baking course"), product(2, name="Rolls")
    )
    async with new_client(web_app) as laptop:
        await register(laptop)
        await add(laptop, loaf, 1)
        await add(laptop, course)
    async with new_client(web_app) as phone:
        await add(phone, loaf, 2)
        await add(phone, course)
        await add(phone, rolls, 1)
        response = await login(phone)
        assert response.status_code == 303 and response.headers["location"] == "/cart"
        page = (await phone.get("/cart")).text
        notice = page.split('role="status"')[1].split("</div>")[0]
        assert "You are logged in as ada@example.org." in notice
        assert "The 4 items from your cart are now in your account&#39;s cart." in notice
        assert "Loaf: quantities merged (1 + 2 = 3)" in notice
        assert "Baking course: quantities merged (1 + 1 = 2)" in notice
        assert 'name="quantity" value="3"' in page and "Rolls" in page
        assert '<span class="badge" data-cart-count>6</span>' in page
        await logout(phone)
        assert "Your cart is empty." in (await phone.get("/cart")).text
    async with new_client(web_app) as laptop:
        await login(laptop)
        assert '<span class="badge" data-cart-count>6</span>' in (await laptop.get("/cart")).text


async def test_registering_keeps_the_anonymous_cart(
    web_app: Starlette, web_client: httpx.AsyncClient
) -> None:
    (loaf,) = await seed(web_app, product(1, name="Loaf"))
    await add(web_client, loaf, 2)
    response = await register(web_client, "New@Example.org")
    assert response.status_code == 303
    page = (await web_client.get(response.headers["location"])).text
    assert "You are logged in as New@Example.org." in page
    assert '<span class="badge" data-cart-count>2</span>' in page


async def test_logging_in_from_a_page_that_needed_it_goes_back_there(
    web_app: Starlette, web_client: httpx.AsyncClient
) -> None:
    await register(web_client)
    await post_form(web_client, "/logout", {}, csrf_from="/")
    form = await web_client.get("/login", params={"next": "/orders"})
    assert 'name="next" value="/orders"' in form.text
    answer = await post_form(
        web_client,
        "/login",
        {"email": "ada@example.org", "password": "correct horse battery", "next": "/orders"},
    )
    assert answer.status_code == 303 and answer.headers["location"] == "/orders"
    elsewhere = await post_form(
        web_client,
        "/login",
        {
            "email": "ada@example.org",
            "password": "correct horse battery",
            "next": "https://evil.example/",
        },
    )
    assert elsewhere.headers["location"] in ("/orders", "/cart")  # ours, never theirs
