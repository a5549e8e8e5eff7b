"""Product pictures and seats in a real browser (Debian's Chromium through Playwright).

A market on loopback serves a PNG; the cart (under uvicorn, as `rose-cart serve`) takes
it through its image worker and shows it from its own origin: the browser loads it under
the page's Content-Security-Policy and reads its alt text. A class with two seats reads
"2 of 2 seats left" and two tickets for it go into the cart at once.
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from starlette.applications import Starlette
from starlette.responses import Response
from starlette.routing import Route

from actor.icon import disc, encode_png
from cart.catalog.image_fetch import ImageFetcher
from cart.catalog.images import ImageRef
from cart.catalog.mirror import upsert_object
from cart.identity.accounts import Passwords
from cart.web import configure_web
from service.app import create_app
from service.settings import Settings
from tests.cart.web_support import CHEAP_PASSWORDS, with_cart_routes
from tests.support.browser import CHROMIUM, CHROMIUM_ARGS, needs_chromium
from tests.support.clock import Clock
from tests.support.factories import NOW, entry, offer, product
from tests.support.loopback import free_socket, origin_of, serving

pytestmark = [pytest.mark.browser, needs_chromium]

LOAF = encode_png(64, 64, disc(64, (0xB0, 0x7A, 0x3C), (0xFF, 0xFF, 0xFF)))
ALT = "A round sourdough loaf, dusted with flour"


def picture_server() -> Starlette:
    async def loaf(_: object) -> Response:
        return Response(LOAF, media_type="image/png")

    return Starlette(routes=[Route("/loaf.png", loaf)])


@pytest.fixture
async def shop(tmp_path: Path) -> AsyncIterator[str]:
    sock = free_socket()
    base = origin_of(sock)
    settings = Settings(
        base_url=base, data_dir=tmp_path, secret_key="browser-" + "k" * 40, workers=False
    )
    # The shop runs at the factories' NOW: the pottery class starts four days after it,
    # so it is on sale whatever day the suite runs.
    app = with_cart_routes(create_app(settings, clock=Clock()))
    async with serving(picture_server(), lifespan="off") as market, serving(app, sock):
        configure_web(app.state, passwords=Passwords(CHEAP_PASSWORDS))
        loaf = product(1, name="Sourdough loaf", price="3.50")
        pottery = dataclasses.replace(entry(9, name="Pottery taster", seats=2), capacity=2)
        async with app.state.db.transaction() as session:
            await upsert_object(
                session,
                loaf,
                sender=loaf.attributed_to,
                version=NOW,
                now=NOW,
                image=ImageRef(f"{market}/loaf.png", "image/png", ALT),
            )
            await offer(session, pottery)
        fetcher = ImageFetcher(app.state.db, allow_private=True)
        try:
            assert await fetcher.step() == 1
        finally:
            await fetcher.aclose()
        yield base


async def test_a_product_page_shows_its_picture_and_two_tickets_go_in_at_once(
    shop: str,
) -> None:
    from playwright.async_api import async_playwright, expect

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS
        )
        try:
            page = await browser.new_page(viewport={"width": 1000, "height": 900})
            blocked: list[str] = []
            page.on(
                "console",
                lambda m: blocked.append(m.text) if "Content Security Policy" in m.text else None,
            )
            await page.goto(shop + "/")
            card = page.locator("li.item", has_text="Sourdough loaf")
            await expect(card.get_by_role("img", name=ALT)).to_be_visible()
            await card.get_by_role("link", name="Sourdough loaf").click()
            await expect(
                page.get_by_role("heading", name="Sourdough loaf", level=1)
            ).to_be_visible()
            picture = page.get_by_role("img", name=ALT)
            await expect(picture).to_be_visible()
            src = await picture.get_attribute("src")
            assert src is not None and src.startswith("/images/"), src
            loaded = await picture.evaluate("img => img.complete && img.naturalWidth")
            assert loaded == 64, "the browser decoded the picture from our origin"

            await page.goto(shop + "/")
            card = page.locator("li.item", has_text="Pottery taster")
            await expect(card).to_contain_text("2 of 2 seats left")
            await card.get_by_label("Tickets for Pottery taster").fill("2")
            await card.get_by_role("button", name="Add ticket for Pottery taster to cart").click()
            await page.goto(shop + "/cart")
            await expect(page.get_by_label("Quantity of Pottery taster")).to_have_value("2")
            await expect(page.get_by_text("£50.00").first).to_be_visible()  # 2 x 25.00
            assert blocked == []
        finally:
            await browser.close()
