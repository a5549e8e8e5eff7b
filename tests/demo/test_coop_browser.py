"""The demo co-op in a real browser: three real processes, signed federation, the sandbox.

A shopper buys a loaf and a class ticket and pays on the sandbox's hosted page; the
calendar confirms the seat; once the class is full, the next shopper is refused and told
why. The screenshots of the catalogue and of the paid order are the README's.
"""

from __future__ import annotations

import re
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.browser import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, needs_chromium
from tests.support.demo import DEMO_START, eventually, start_demo

CLASS = "Pottery taster"  # two seats
LOAF = ">Sourdough loaf<"  # the market's first item, as its card's title

pytestmark = [
    pytest.mark.slow,
    pytest.mark.browser,
    needs_chromium,
]


@pytest.fixture
def coop(tmp_path: Path) -> Iterator[dict[str, str]]:
    launcher, ports = start_demo(tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    cart, calendar = ports.cart, ports.calendar
    urls = {"shop": f"http://127.0.0.1:{cart}", "calendar": f"http://127.0.0.1:{calendar}"}
    try:

        def ready() -> bool:  # market and calendar deliver their catalogues independently
            try:
                page = httpx.get(urls["shop"] + "/", timeout=5).text
            except httpx.TransportError:
                return False
            return CLASS in page and LOAF in page

        eventually(
            ready, "the shop shows the market's loaf and the calendar's classes", seconds=DEMO_START
        )
        yield urls
    finally:
        launcher.send_signal(signal.SIGINT)
        launcher.wait(timeout=60)


async def check_out_the_hall(page) -> None:  # type: ignore[no-untyped-def]
    """Give the hall's page cart a contact and check it out; with a loaf in the cart the
    bakery's page cart has its own contact fields, so they are found in the hall's form."""
    checkout = page.get_by_role("button", name="Checkout The Old School Hall")
    form = page.locator("form", has=checkout)
    await form.get_by_label("Name", exact=True).fill("Ada Lovelace")
    await form.get_by_label("E-mail", exact=True).fill("ada@example.org")
    await checkout.click()


async def buy(browser, shop: str, *, with_loaf: bool, screenshot: str | None = None) -> str:  # type: ignore[no-untyped-def]
    """One shopper: add the class (and a loaf), pay the hall's cart.

    Returns the return page's heading.
    """
    from playwright.async_api import expect

    context = await browser.new_context(viewport={"width": 1000, "height": 900})
    page = await context.new_page()
    await page.goto(shop + "/")
    if with_loaf:
        await page.get_by_role("button", name="Add Sourdough loaf to cart").click()
        await page.goto(shop + "/")
    await page.get_by_role("button", name=f"Add ticket for {CLASS} to cart").click()
    await page.goto(shop + "/cart")
    await check_out_the_hall(page)
    await page.get_by_role("button", name="Pay").first.click()
    heading = page.get_by_role("heading", level=1)
    await expect(heading).to_contain_text("order RA-")
    text = await heading.inner_text()
    if screenshot:
        await page.get_by_role("link", name="See the order").click()
        ARTIFACTS.mkdir(exist_ok=True)
        await page.screenshot(path=str(ARTIFACTS / screenshot), full_page=True)
    await context.close()
    return text


async def test_buying_a_class_confirms_the_seat_and_the_last_seat_is_not_sold_twice(
    coop: dict[str, str],
) -> None:
    from playwright.async_api import async_playwright

    shop, calendar = coop["shop"], coop["calendar"]
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS
        )
        try:
            overview = await browser.new_page(viewport={"width": 1000, "height": 900})
            await overview.goto(shop + "/")
            ARTIFACTS.mkdir(exist_ok=True)
            await overview.screenshot(path=str(ARTIFACTS / "catalogue.png"))

            first = await buy(browser, shop, with_loaf=True, screenshot="order-paid.png")
            assert re.search(r"order RA-\d+ is paid", first), first

            def seats_confirmed(count: int) -> bool:
                page = httpx.get(calendar + "/entries").text
                return page.count('class="state-confirmed"') >= count  # booking rows

            eventually(lambda: seats_confirmed(1), "the calendar shows the seat confirmed")
            second = await buy(browser, shop, with_loaf=False)
            assert "is paid" in second, second
            eventually(lambda: seats_confirmed(2), "the second seat confirmed too")

            def full_in_shop() -> bool:
                page = httpx.get(shop + "/").text
                card = page[page.index(CLASS) :][:1500]
                return f"for {CLASS}</span> to cart" not in card

            eventually(full_in_shop, "the shop stops selling the full class")
            latecomer = await browser.new_page()
            await latecomer.goto(shop + "/")
            card = latecomer.locator("li.item", has_text=CLASS)
            assert await card.get_by_role("button").count() == 0
            says = await card.inner_text()
            assert re.search(r"full|sold out|no seats|not available|booked", says, re.I), says
        finally:
            await browser.close()


async def test_the_markets_picture_shows_and_two_tickets_for_one_class_take_both_seats(
    coop: dict[str, str],
) -> None:
    from playwright.async_api import async_playwright, expect

    shop, calendar = coop["shop"], coop["calendar"]

    def loaf_pictured() -> bool:  # the cart's image worker has fetched the market's PNG
        page = httpx.get(shop + "/").text
        before = page[: page.index(LOAF)]
        card = before[before.rindex('<li class="item"') :]
        return '<img class="thumb" src="/images/' in card

    eventually(loaf_pictured, "the catalogue shows the market's picture of the loaf")
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS
        )
        try:
            page = await browser.new_page(viewport={"width": 1000, "height": 900})
            await page.goto(shop + "/")
            await (
                page.locator("li.item", has_text="Sourdough loaf")
                .get_by_role("link", name="Sourdough loaf")
                .click()
            )
            alt = re.compile(r"square with a paler disc, standing in for a photo of Sourdough loaf")
            picture = page.get_by_role("img", name=alt)
            await expect(picture).to_be_visible()
            assert (await picture.get_attribute("src") or "").startswith("/images/")
            assert await picture.evaluate("img => img.naturalWidth") == 160
            await page.goto(shop + "/")
            card = page.locator("li.item", has_text=CLASS)
            await expect(card).to_contain_text("2 of 2 seats left")
            await card.get_by_label(f"Tickets for {CLASS}").fill("2")
            await card.get_by_role("button", name=f"Add ticket for {CLASS} to cart").click()
            await page.goto(shop + "/cart")
            await expect(page.get_by_label(f"Quantity of {CLASS}")).to_have_value("2")
            await check_out_the_hall(page)
            await page.get_by_role("button", name="Pay").first.click()
            heading = page.get_by_role("heading", level=1)
            await expect(heading).to_contain_text("is paid")
            await expect(page.locator("body")).to_contain_text("£70.00")

            def both_seats_taken() -> bool:
                entries = httpx.get(calendar + "/entries").text
                return "0 of 2 seats left" in entries and 'class="state-confirmed"' in entries

            eventually(both_seats_taken, "the calendar confirms two seats for the one order")
        finally:
            await browser.close()
