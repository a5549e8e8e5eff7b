"""A purchase in a real browser (headless Chromium via Playwright) through the sandbox's
hosted SumUp page, ending on the paid order page (screenshot in test-artifacts/).

The sandbox is mounted in the app under /sumup, as `serve` can run it without SumUp
credentials; on one origin the page's CSP (`form-action 'self' https:`) lets the
checkout's redirect through, as it does for SumUp's real https origin.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from starlette.applications import Starlette
from starlette.routing import Mount

from cart.identity.accounts import Passwords
from cart.web import configure_web
from cart.web.checkout_routes import checkout_routes
from cart.web.orders_routes import orders_routes
from payments.sandbox import SandboxSettings, create_sandbox_app
from payments.sumup import SumUpClient
from service.app import create_app
from service.settings import Settings
from tests.cart.checkout_support import orders
from tests.cart.web_support import CHEAP_PASSWORDS, with_cart_routes
from tests.support.browser import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, needs_chromium
from tests.support.factories import offer, product
from tests.support.loopback import free_socket, origin_of, serving

API_KEY, MERCHANT = "sup_sk_browser_test", "MBROWSER1"

pytestmark = [
    pytest.mark.browser,
    needs_chromium,
]


@pytest.fixture
async def served(tmp_path: Path) -> AsyncIterator[tuple[str, Starlette]]:
    sock = free_socket()
    base = origin_of(sock)
    settings = Settings(
        base_url=base, data_dir=tmp_path, secret_key="browser-" + "k" * 40, workers=False
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
    app.router.routes[0:0] = [*checkout_routes(), *orders_routes(), Mount("/sumup", sumup)]
    with_cart_routes(app)
    await sumup.state.sandbox.webhooks.start()  # a mounted app gets no lifespan of its own
    provider = SumUpClient(api_key=API_KEY, merchant_code=MERCHANT, base_url=f"{base}/sumup")
    try:
        async with serving(app, sock):
            configure_web(app.state, passwords=Passwords(CHEAP_PASSWORDS))
            app.state.payment_provider = provider
            async with app.state.db.transaction() as session:
                await offer(session, product(1, name="Sourdough loaf", price="3.50"))
            yield base, app
    finally:
        await provider.aclose()
        await sumup.state.sandbox.aclose()


async def test_a_shopper_pays_on_the_hosted_page_and_sees_the_paid_order(
    served: tuple[str, Starlette],
) -> None:
    from playwright.async_api import async_playwright, expect

    base, app = served
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS
        )
        try:
            page = await (
                await browser.new_context(viewport={"width": 1000, "height": 900})
            ).new_page()
            await page.goto(base + "/")
            await page.get_by_label("Quantity of Sourdough loaf").fill("2")
            await page.get_by_role("button", name="Add Sourdough loaf to cart").click()
            await page.locator("a.cart-mini").click()
            await page.get_by_label("Name", exact=True).fill("Ada Lovelace")
            await page.get_by_label("E-mail", exact=True).fill("ada@example.org")
            await page.get_by_role("button", name="Checkout The Bakery").click()

            await expect(page.get_by_role("heading", name="Pay The Bakery")).to_be_visible()
            await page.get_by_role("button", name="Pay").first.click()

            await expect(page.get_by_role("heading", level=1)).to_contain_text(
                "order RA-000001 is paid"
            )
            await page.get_by_role("link", name="See the order").click()
            await expect(page.locator(".order-status")).to_have_text("Paid")
            await expect(page.get_by_text("Payment received")).to_be_visible()
            ARTIFACTS.mkdir(exist_ok=True)
            await page.screenshot(path=str(ARTIFACTS / "checkout-paid.png"), full_page=True)
        finally:
            await browser.close()
    (order,) = await orders(app.state.db)
    assert order.status == "paid"
