"""The shopper's pages: catalogue, entry page, cart overview, page carts, empty states."""

from __future__ import annotations

import httpx
import pytest
from starlette.applications import Starlette

from tests.cart.web_support import add, line_ids, post_form, seed
from tests.support.clock import Clock
from tests.support.factories import BAKERY, VENUE, entry, product


@pytest.fixture
def app_clock() -> Clock:
    """The shop's clock at the factories' NOW: their entries start four days after it,
    so they are on sale whatever day the suite runs (the wall clock passed one of them)."""
    return Clock()


async def test_given_an_empty_mirror_the_catalogue_says_nothing_is_on_sale(
    web_client: httpx.AsyncClient,
) -> None:
    page = await web_client.get("/")
    assert page.status_code == 200
    assert "Nothing is on sale yet" in page.text
    assert 'href="#main"' in page.text and 'id="main"' in page.text  # skip link and its target
    assert "default-src 'self'" in page.headers["content-security-policy"]
    assert page.headers["cache-control"] == "no-store"


async def test_the_catalogue_groups_offers_by_page_with_prices_and_add_buttons(
    web_app: Starlette, web_client: httpx.AsyncClient
) -> None:
    await seed(
        web_app,
        product(1, name="Sourdough loaf", price="3.50"),
        product(2, name="Rye", stock=0),
        entry(9, name="Bread class"),
    )
    page = (await web_client.get("/")).text
    assert (
        page.index("The Bakery")
        < page.index("Sourdough loaf")
        < page.index("Village Hall")
        < page.index("Bread class")
    )
    assert "£3.50" in page and "£25.00" in page
    assert "Sold out." in page  # Rye: shown, flagged, no button
    assert page.count('<span class="visually-hidden"> Sourdough loaf</span> to cart</button>') == 1
    assert page.count('<span class="visually-hidden"> for Bread class</span> to cart</button>') == 1
    assert "Rye</span> to cart" not in page
    assert '<label for="qty-' in page


async def test_an_entry_page_shows_date_time_and_place(
    web_app: Starlette, web_client: httpx.AsyncClient
) -> None:
    await seed(web_app, entry(9, name="Bread class"))
    catalogue = (await web_client.get("/")).text
    href = catalogue.split('<a href="/entries/')[1].split('"')[0]
    page = await web_client.get(f"/entries/{href}")
    assert page.status_code == 200
    text = page.text
    assert "Bread class" in text and "Village Hall" in text
    assert "Saturday 28 November 2026" in text  # NOW + 4 days
    assert "10:00 GMT – 12:00 GMT" in text
    assert "Place</dt><dd>To be announced" in text  # the factory's entries give no location


async def test_an_unknown_entry_answers_a_clear_404_page(web_client: httpx.AsyncClient) -> None:
    page = await web_client.get("/entries/nope")
    assert page.status_code == 404
    assert "We could not find that event" in page.text


async def test_an_empty_cart_says_so_and_points_to_the_catalogue(
    web_client: httpx.AsyncClient,
) -> None:
    page = await web_client.get("/cart")
    assert page.status_code == 200
    assert "Your cart is empty." in page.text and 'href="/"' in page.text


async def test_the_cart_groups_lines_by_page_with_subtotals_and_a_checkout_per_page(
    web_app: Starlette, web_client: httpx.AsyncClient
) -> None:
    loaf, rolls, cls = await seed(
        web_app,
        product(1, name="Loaf", price="3.50"),
        product(2, name="Rolls", price="1.25"),
        entry(9, name="Baking course"),
    )
    await add(web_client, loaf, 2)
    await add(web_client, rolls, 1)
    await add(web_client, cls)
    page = (await web_client.get("/cart")).text
    assert 'role="status"' in page and "Added to your cart: Baking course" in page
    assert '<span class="badge" data-cart-count>4</span>' in page
    page = page.split("<h1>Your cart</h1>")[1]
    assert (
        page.index("The Bakery")
        < page.index("Loaf")
        < page.index("Village Hall")
        < page.index("Baking course")
    )
    assert 'Subtotal: <span class="price">£8.25</span>' in page  # 2 x 3.50 + 1.25
    assert 'Subtotal: <span class="price">£25.00</span>' in page
    assert page.count('action="/cart/page/') == 2  # one Checkout form per page


async def test_a_page_cart_shows_only_that_page_and_its_checkout_leads_to_payment(
    web_app: Starlette, web_client: httpx.AsyncClient
) -> None:
    loaf, cls = await seed(web_app, product(1, name="Loaf"), entry(9, name="Baking course"))
    await add(web_client, loaf)
    await add(web_client, cls)
    overview = (await web_client.get("/cart")).text
    bakery_path = overview.split('<a href="/cart/page/')[1].split('"')[0]
    page = await web_client.get(f"/cart/page/{bakery_path}")
    assert page.status_code == 200
    assert "Loaf" in page.text and "Baking course" not in page.text
    checkout = await post_form(
        web_client, f"/cart/page/{bakery_path}/checkout", {}, csrf_from="/cart"
    )
    # The order is placed. In-process no payment provider can be reached (the real flow
    # through the sandbox is in tests/cart/test_checkout_*), so the shopper lands on the
    # order, kept, with a way to pay.
    assert checkout.status_code == 303
    assert checkout.headers["location"] == "/orders/RA-000001"
    order = await web_client.get(checkout.headers["location"])
    assert order.status_code == 200 and "Loaf" in order.text and "Pay" in order.text


async def test_a_page_cart_of_a_known_page_without_lines_shows_an_empty_state(
    web_app: Starlette, web_client: httpx.AsyncClient
) -> None:
    from cart.catalog.models import key_for

    await seed(web_app, product(1))
    page = await web_client.get(f"/cart/page/{key_for(BAKERY.id)}")
    assert page.status_code == 200
    assert "You have nothing from The Bakery in your cart." in page.text
    assert (await web_client.get(f"/cart/page/{key_for(VENUE.id)}x")).status_code == 404


async def test_a_changed_price_shows_old_and_new_and_can_be_accepted(
    web_app: Starlette, web_client: httpx.AsyncClient
) -> None:
    from datetime import timedelta

    from cart.catalog.mirror import upsert_object
    from tests.support.factories import NOW

    (loaf,) = await seed(web_app, product(1, name="Loaf", price="3.50"))
    await add(web_client, loaf, 2)
    dearer = product(1, name="Loaf", price="4.00")
    async with web_app.state.db.transaction() as session:
        later = NOW + timedelta(minutes=1)
        await upsert_object(session, dearer, sender=dearer.attributed_to, version=later, now=later)
    page = (await web_client.get("/cart")).text
    assert "Price changed" in page
    assert '<span class="visually-hidden">was </span>£3.50' in page
    assert '<span class="visually-hidden">now </span>£4.00' in page
    assert "Nothing here can be checked out yet." in page
    (line,) = line_ids(page)
    accepted = await post_form(
        web_client, f"/cart/lines/{line}/accept-price", {"next": "/cart"}, csrf_from="/cart"
    )
    assert accepted.status_code == 303
    page = (await web_client.get("/cart")).text
    assert "Price changed" not in page and "£8.00" in page


async def test_a_withdrawn_product_is_marked_and_left_out_of_the_subtotal(
    web_app: Starlette, web_client: httpx.AsyncClient
) -> None:
    from datetime import timedelta

    from cart.catalog.mirror import withdraw_object
    from tests.support.factories import MARKET, NOW

    loaf, rolls = await seed(
        web_app, product(1, name="Loaf", price="3.50"), product(2, name="Rolls", price="1.00")
    )
    await add(web_client, loaf)
    await add(web_client, rolls)
    async with web_app.state.db.transaction() as session:
        await withdraw_object(session, loaf, sender=MARKET, at=NOW + timedelta(minutes=1))
    page = (await web_client.get("/cart")).text
    assert "Withdrawn" in page and "No longer offered" in page
    assert 'Subtotal: <span class="price">£1.00</span>' in page
    assert "left out of the subtotal" in page and "once it is fixed or removed" in page


async def test_the_header_links_your_orders_and_the_browser_finds_an_icon(
    web_client: httpx.AsyncClient,
) -> None:
    page = (await web_client.get("/")).text
    assert '<a href="/orders">Your orders</a>' in page
    assert '<a href="/admin">Admin</a>' not in page  # for operators only
    icon = await web_client.get("/favicon.ico")
    assert icon.status_code == 200 and icon.headers["content-type"].startswith("image/svg+xml")
