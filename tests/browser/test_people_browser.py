"""A guest and an operator in a real browser (headless Chromium via Playwright), with
mail delivered to a real SMTP server on loopback (aiosmtpd):

the guest buys with a name, an e-mail and a pickup slot the shop's page offers, pays on
the sandbox's hosted page, receives the confirmation and the receipt (with the pickup)
in the local mailbox, and opens the order from the receipt's signed link in a fresh
browser context (no cookie); an operator finds the order by the guest's e-mail and
downloads the packing list of that pickup slot. On a 320 px phone, adding to the cart
comes back to the item with the keyboard focus on it and the change announced, and the
sandbox's payment page fits the screen.
"""

from __future__ import annotations

import asyncio
import csv
import io
import re
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import pytest
from pydantic import SecretStr
from starlette.applications import Starlette
from starlette.routing import Mount

from cart.identity.accounts import Passwords, Role, register
from cart.web import configure_web
from mail.sender import MailSender
from payments.sandbox import SandboxSettings, create_sandbox_app
from payments.sumup import SumUpClient
from service.app import create_app
from service.mailing import build_mail_sender
from service.settings import Settings
from tests.cart.admin_support import OPERATOR, PASSWORD
from tests.cart.web_support import CHEAP_PASSWORDS
from tests.mail.support import Mailbox, parts, smtp_server
from tests.support.browser import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, needs_chromium
from tests.support.factories import (
    BAKERY,
    BIKE_DELIVERY,
    SATURDAY_PICKUP,
    offer,
    product,
)
from tests.support.loopback import free_port, free_socket, origin_of, serving, wait_until

API_KEY, MERCHANT = "sup_sk_people_test", "MPEOPLE1"
GUEST = "ada@example.org"
LINK = re.compile(r"http://127\.0\.0\.1:\d+/orders/link/[A-Za-z0-9_.\-]+")

pytestmark = [pytest.mark.browser, needs_chromium]


@pytest.fixture
async def served(tmp_path: Path) -> AsyncIterator[tuple[str, Starlette, MailSender, Mailbox]]:
    sock, smtp_port = free_socket(), free_port()
    base = origin_of(sock)
    settings = Settings(
        base_url=base,
        data_dir=tmp_path,
        secret_key="browser-" + "k" * 40,
        workers=False,
        smtp_url=SecretStr(f"smtp://127.0.0.1:{smtp_port}"),
    )
    sumup = create_sandbox_app(
        SandboxSettings(
            api_keys=(API_KEY,),
            allowed_origins=(base,),
            merchant_code=MERCHANT,
            merchant_name="The Bakery",
        )
    )
    app = create_app(settings)
    app.router.routes[0:0] = [Mount("/sumup", sumup)]
    await sumup.state.sandbox.webhooks.start()
    provider = SumUpClient(api_key=API_KEY, merchant_code=MERCHANT, base_url=f"{base}/sumup")
    try:
        async with serving(app, sock):
            config = configure_web(app.state, passwords=Passwords(CHEAP_PASSWORDS))
            app.state.payment_provider = provider
            async with app.state.db.transaction() as session:
                page = replace(BAKERY, fulfilment=(SATURDAY_PICKUP, BIKE_DELIVERY))
                await offer(session, product(1, name="Sourdough loaf", price="3.50", page=page))
                await offer(session, product(2, name="Rye bread", price="4.20", page=page))
            await register(app.state.db, config.passwords, OPERATOR, PASSWORD, role=Role.OPERATOR)
            with smtp_server(smtp_port) as mailbox:
                yield base, app, build_mail_sender(settings, app.state.db), mailbox
    finally:
        await provider.aclose()
        await sumup.state.sandbox.aclose()


async def _mails_for(sender: MailSender, mailbox: Mailbox, count: int) -> None:
    """Run the mail worker until `count` mails reached the guest's mailbox."""

    async def arrived() -> bool:
        if len(mailbox.to(GUEST)) < count:
            await sender.step()
        return len(mailbox.to(GUEST)) >= count

    await wait_until(arrived, within=5.0, message=f"{count} mails expected at {GUEST}")


async def test_a_guest_buys_gets_the_receipt_by_mail_and_an_operator_packs_the_order(
    served: tuple[str, Starlette, MailSender, Mailbox],
) -> None:
    from playwright.async_api import async_playwright, expect

    base, _app, sender, mailbox = served
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS
        )
        try:
            guest = await (await browser.new_context()).new_page()
            await guest.goto(base + "/")
            await guest.get_by_role("button", name="Add Sourdough loaf to cart").click()
            await guest.goto(base + "/cart")
            await guest.get_by_label("Name", exact=True).fill("Ada Lovelace")
            await guest.get_by_label("E-mail", exact=True).fill(GUEST)
            await guest.get_by_role("radio", name=re.compile("Saturday stall")).check()
            await guest.get_by_role("button", name="Checkout The Bakery").click()
            await guest.get_by_role("button", name="Pay").first.click()
            await expect(guest.get_by_role("heading", level=1)).to_contain_text(
                "order RA-000001 is paid"
            )

            await _mails_for(sender, mailbox, 2)
            placed, receipt = mailbox.to(GUEST)
            assert placed["Subject"] == "Your order RA-000001 with The Bakery"
            text, _html = parts(receipt)
            assert "Sourdough loaf" in text and "£3.50" in text
            assert "Pickup: Saturday stall" in text and "Where: Market hall" in text
            assert "Saturday 6 July 2030, 08:00 to 11:00 BST" in text
            link = LINK.search(text)
            assert link is not None, text

            stranger = await (await browser.new_context()).new_page()  # no cookie at all
            await stranger.goto(link.group(0))
            await expect(stranger.get_by_role("heading", level=1)).to_have_text("Order RA-000001")
            await expect(stranger.locator(".order-status")).to_have_text("Paid")
            await expect(stranger.locator(".handover-name")).to_have_text("Saturday stall")

            operator = await (await browser.new_context(accept_downloads=True)).new_page()
            await operator.goto(base + "/login?next=/admin/orders")
            await operator.get_by_label("Email address").fill(OPERATOR)
            await operator.get_by_label("Password").fill(PASSWORD)
            await operator.get_by_role("button", name="Log in").click()
            await operator.get_by_label("Number, e-mail or name").fill(GUEST)
            await operator.get_by_role("button", name="Search").click()
            await expect(operator.get_by_role("link", name="RA-000001")).to_be_visible()
            await expect(operator.get_by_text("Ada Lovelace")).to_be_visible()
            await expect(operator.get_by_text("Pickup: Saturday stall")).to_be_visible()
            await operator.get_by_role("link", name="Packing lists by pickup slot").click()
            slot = "Download the packing list for The Bakery, Pickup: Saturday stall (CSV)"
            async with operator.expect_download() as waiting:
                await operator.get_by_role("link", name=slot).click()
            download = await waiting.value
            saved = await download.path()
            packing = await asyncio.to_thread(Path.read_text, saved, "utf-8")
            header, row = list(csv.reader(io.StringIO(packing)))
            line = dict(zip(header, row, strict=True))
            assert (line["customer"], line["email"], line["order"]) == (
                "Ada Lovelace",
                GUEST,
                "RA-000001",
            )
            assert (line["handover"], line["item"]) == ("Pickup: Saturday stall", "Sourdough loaf")
            ARTIFACTS.mkdir(exist_ok=True)
            await operator.screenshot(path=str(ARTIFACTS / "admin-orders-by-email.png"))
        finally:
            await browser.close()


async def test_on_a_320px_phone_adding_returns_to_the_item_and_the_payment_page_fits(
    served: tuple[str, Starlette, MailSender, Mailbox],
) -> None:
    from playwright.async_api import async_playwright, expect

    base, _app, _sender, _mailbox = served
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS
        )
        try:
            phone = await browser.new_context(viewport={"width": 320, "height": 640})
            page = await phone.new_page()
            await page.goto(base + "/")
            await page.get_by_role("button", name="Add Rye bread to cart").click()
            await expect(page).to_have_url(re.compile(r"/#item-[0-9a-f]+$"))
            target = page.url.rsplit("#", 1)[1]
            # Focus is on the item the shopper added (Tab goes on from there), and the
            # live region says what changed.
            await expect(page.locator(f"#{target}")).to_be_focused()
            status = page.get_by_role("status")
            await expect(status).to_contain_text("Added to your cart: Rye bread")
            assert await status.get_attribute("aria-live") == "polite"
            await page.keyboard.press("Tab")
            await expect(page.get_by_role("link", name="Rye bread", exact=True)).to_be_focused()

            await page.goto(base + "/cart")
            await page.get_by_label("Name", exact=True).fill("Ada Lovelace")
            await page.get_by_label("E-mail", exact=True).fill(GUEST)
            await page.get_by_role("radio", name=re.compile("Bike")).check()
            await page.get_by_label("Delivery address").fill("1 Lime Street")
            await page.get_by_role("button", name="Checkout The Bakery").click()
            pay = page.get_by_role("button", name=re.compile("^Pay"))
            await expect(pay).to_be_visible()
            await expect(pay).to_contain_text("6.70")  # £4.20 and the £2.50 delivery fee
            widths = await page.evaluate(
                "[document.documentElement.scrollWidth, document.documentElement.clientWidth]"
            )
            assert widths[0] <= 320 and widths[0] <= widths[1], widths
            ARTIFACTS.mkdir(exist_ok=True)
            await page.screenshot(path=str(ARTIFACTS / "sandbox-320.png"), full_page=True)
        finally:
            await browser.close()
