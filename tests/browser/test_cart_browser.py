"""A shopper in a real browser: Debian's headless Chromium driven by Playwright.

The app runs under uvicorn on a loopback port, exactly as `rose-cart serve` would, with
the cart's routes mounted; the catalogue is seeded through the mirror's write path.
Needs /usr/bin/chromium (`apt-get install -y chromium`); skipped, saying so, without it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from starlette.applications import Starlette

from cart.catalog.mirror import upsert_object
from cart.identity.accounts import Passwords
from cart.web import configure_web
from service.app import create_app
from service.settings import Settings
from tests.cart.web_support import CHEAP_PASSWORDS, registration_link, with_cart_routes
from tests.support.browser import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, needs_chromium
from tests.support.clock import Clock
from tests.support.factories import NOW, entry, offer, product
from tests.support.loopback import free_socket, origin_of, serving

pytestmark = [pytest.mark.browser, needs_chromium]


@pytest.fixture
async def served(tmp_path: Path) -> AsyncIterator[tuple[str, Starlette]]:
    sock = free_socket()
    base = origin_of(sock)
    settings = Settings(
        base_url=base, data_dir=tmp_path, secret_key="browser-" + "k" * 40, workers=False
    )
    # At the factories' NOW: the Bread class starts four days after it, whatever the date.
    app = with_cart_routes(create_app(settings, clock=Clock()))
    async with serving(app, sock):
        configure_web(app.state, passwords=Passwords(CHEAP_PASSWORDS))
        async with app.state.db.transaction() as session:
            await offer(session, product(1, name="Sourdough loaf", price="3.50"))
            await offer(session, product(2, name="Apple juice", price="2.20"))
            course = entry(9, name="Bread class", price="25.00")
            await upsert_object(
                session,
                course,
                sender=course.attributed_to,
                version=NOW,
                now=NOW,
                location="Church Lane 4",
            )
        yield base, app


async def test_a_shopper_fills_a_cart_logs_in_and_keeps_it(served: tuple[str, Starlette]) -> None:
    from playwright.async_api import async_playwright, expect

    base, app = served
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS
        )
        try:
            # Someone registered earlier, on another device.
            other = await browser.new_context()
            setup = await other.new_page()
            await setup.goto(f"{base}/register")
            await setup.get_by_label("Email address").fill("ada@example.org")
            await setup.get_by_role("button", name="Send me the link").click()
            await expect(setup.get_by_role("heading", name="Check your mail")).to_be_visible()
            link = await registration_link(app, "ada@example.org")  # as the mail has it
            assert link is not None
            await setup.goto(base + link)
            await setup.get_by_label("Password").fill("correct horse battery")
            await setup.get_by_role("button", name="Create my account").click()
            await expect(
                setup.get_by_text("Logged in as ada@example.org", exact=True)
            ).to_be_visible()
            await other.close()

            context = await browser.new_context(viewport={"width": 1000, "height": 900})
            page = await context.new_page()
            violations: list[str] = []
            page.on(
                "console",
                lambda m: (
                    violations.append(m.text) if "Content Security Policy" in m.text else None
                ),
            )

            await page.goto(base + "/")
            await expect(page.get_by_role("heading", name="Catalogue", level=1)).to_be_visible()
            await page.keyboard.press("Tab")
            await expect(page.get_by_role("link", name="Skip to main content")).to_be_focused()

            await page.get_by_label("Quantity of Sourdough loaf").fill("2")
            await page.get_by_role("button", name="Add Sourdough loaf to cart").click()
            await expect(page.get_by_role("status")).to_contain_text(
                "Added to your cart: Sourdough loaf"
            )
            await page.get_by_role("button", name="Add Apple juice to cart").click()
            await expect(page.get_by_role("status")).to_contain_text("Apple juice")

            await page.get_by_role("link", name="Bread class").click()
            await expect(page.get_by_role("heading", name="Bread class")).to_be_visible()
            await expect(page.locator("dl.facts")).to_contain_text("Church Lane 4")
            await page.get_by_role("button", name="Add ticket for Bread class to cart").click()
            await expect(page.locator("[data-cart-count]")).to_have_text("4")

            await page.locator("a.cart-mini").click()
            await expect(page.get_by_role("heading", name="Your cart", level=1)).to_be_visible()
            await page.get_by_label("Quantity of Apple juice").fill("3")
            await page.get_by_role("button", name="Update quantity of Apple juice").click()
            await expect(page.get_by_role("status")).to_contain_text("Quantity updated.")
            await expect(page.locator("[data-cart-count]")).to_have_text("6")
            await expect(page.get_by_text("£13.60")).to_be_visible()  # 2 x 3.50 + 3 x 2.20

            await page.get_by_role("link", name="Log in").click()
            await page.get_by_label("Email address").fill("ada@example.org")
            await page.get_by_label("Password").fill("correct horse battery")
            await page.get_by_role("button", name="Log in").click()
            status = page.get_by_role("status")
            await expect(status).to_contain_text("You are logged in as ada@example.org.")
            await expect(status).to_contain_text(
                "The 6 items from your cart are now in your account's cart."
            )
            await expect(page.get_by_role("heading", name="Your cart", level=1)).to_be_visible()
            await expect(page.locator("[data-cart-count]")).to_have_text("6")
            await expect(page.get_by_role("button", name="Checkout The Bakery")).to_be_enabled()

            ARTIFACTS.mkdir(exist_ok=True)
            await page.screenshot(path=str(ARTIFACTS / "cart.png"), full_page=True)
            await page.set_viewport_size({"width": 375, "height": 800})
            await page.screenshot(path=str(ARTIFACTS / "cart-narrow.png"), full_page=True)
            await page.goto(base + "/")
            await page.screenshot(path=str(ARTIFACTS / "catalogue-narrow.png"), full_page=True)
            assert violations == []
            await context.close()
        finally:
            await browser.close()


async def test_a_shopper_searches_and_pages_a_large_catalogue(
    served: tuple[str, Starlette],
) -> None:
    from playwright.async_api import async_playwright, expect

    from tests.support.catalogue import fill_catalogue

    base, app = served
    await fill_catalogue(app.state.db, 120, pages=2)  # 60 a stall: more than one screen
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS
        )
        try:
            context = await browser.new_context(viewport={"width": 1000, "height": 900})
            page = await context.new_page()
            await page.goto(base + "/")
            search = page.get_by_role("search")
            await search.get_by_label("Search the catalogue by name").fill("sourd")
            await search.get_by_role("button", name="Search").press("Enter")
            await expect(
                page.get_by_role("heading", name="Search results for “sourd”", level=1)
            ).to_be_visible()
            await expect(page.locator("li.item")).to_have_count(1)
            await page.get_by_role("button", name="Add Sourdough loaf to cart").click()
            await expect(page.get_by_role("status")).to_contain_text(
                "Added to your cart: Sourdough loaf"
            )
            # Back where the shopper was: the results, the query still in the box.
            await expect(page.get_by_label("Search the catalogue by name")).to_have_value("sourd")

            await page.get_by_role("link", name="Back to the catalogue").click()
            await page.get_by_role("link", name="More from Stall 001").click()
            await expect(page.get_by_role("heading", name="Stall 001", level=1)).to_be_visible()
            first = await page.locator("li.item h3").all_inner_texts()
            await page.get_by_role("link", name="Next items").click()
            rest = await page.locator("li.item h3").all_inner_texts()
            assert len(first) == 48 and len(rest) == 12 and not set(first) & set(rest)
            await expect(page.get_by_role("link", name="Next items")).to_have_count(0)
            ARTIFACTS.mkdir(exist_ok=True)
            await page.screenshot(path=str(ARTIFACTS / "catalogue-shelf.png"), full_page=True)
            await context.close()
        finally:
            await browser.close()
