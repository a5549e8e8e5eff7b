"""An operator in a real browser: accepts a pending follow request and retries a dead
delivery, on the app served by uvicorn on a loopback port (rows seeded in the DB).

Needs /usr/bin/chromium; skipped, saying so, without it. Leaves a screenshot of the
dashboard in test-artifacts/admin.png.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from starlette.applications import Starlette

from cart.identity.accounts import Passwords, Role, register
from cart.web import configure_web
from outbox.models import Follower, OutboxDelivery
from service.app import create_app
from service.settings import Settings, parse_peers
from tests.cart.admin_support import COOP, MARKET, OPERATOR, PASSWORD, seed_federation
from tests.cart.web_support import CHEAP_PASSWORDS
from tests.support.browser import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, needs_chromium
from tests.support.loopback import free_socket, origin_of, serving

pytestmark = [pytest.mark.browser, needs_chromium]


@pytest.fixture
async def served(tmp_path: Path) -> AsyncIterator[tuple[str, Starlette, dict[str, int]]]:
    sock = free_socket()
    base = origin_of(sock)
    settings = Settings(
        base_url=base,
        data_dir=tmp_path,
        secret_key="browser-" + "k" * 40,
        workers=False,
        peers=parse_peers(f"market={MARKET}"),
    )
    app = create_app(settings)
    async with serving(app, sock):
        config = configure_web(app.state, passwords=Passwords(CHEAP_PASSWORDS))
        await register(app.state.db, config.passwords, OPERATOR, PASSWORD, role=Role.OPERATOR)
        ids = await seed_federation(app)
        yield base, app, ids


async def test_an_operator_accepts_a_follow_and_retries_a_dead_delivery(
    served: tuple[str, Starlette, dict[str, int]],
) -> None:
    from playwright.async_api import async_playwright, expect

    base, app, ids = served
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS
        )
        try:
            context = await browser.new_context(viewport={"width": 1100, "height": 1000})
            page = await context.new_page()
            violations: list[str] = []
            page.on(
                "console",
                lambda m: (
                    violations.append(m.text) if "Content Security Policy" in m.text else None
                ),
            )
            await page.goto(base + "/admin")
            await expect(page).to_have_url(f"{base}/login?next=/admin")
            await page.get_by_label("Email address").fill(OPERATOR)
            await page.get_by_label("Password").fill(PASSWORD)
            await page.get_by_role("button", name="Log in").click()
            await expect(page.get_by_text(f"Logged in as {OPERATOR}", exact=True)).to_be_visible()

            await page.goto(base + "/admin")
            await expect(page.get_by_role("heading", name="Admin dashboard")).to_be_visible()
            await page.get_by_role("link", name="1 follow request waiting").click()
            await expect(page.get_by_text(COOP)).to_be_visible()
            await page.get_by_role("button", name="Accept").click()
            await expect(page.get_by_role("status")).to_contain_text(
                f"Accepted the follow request of {COOP}"
            )
            await expect(page.get_by_text("No follow requests are waiting.")).to_be_visible()

            await (
                page.get_by_role("navigation", name="Admin")
                .get_by_role("link", name="Deliveries")
                .click()
            )
            await expect(page.locator("table").first).to_contain_text("unavailable")
            await page.get_by_role("button", name=f"Retry #{ids['dead']}").click()
            await expect(page.get_by_role("status")).to_contain_text(
                f"Delivery #{ids['dead']} is queued again"
            )
            await expect(page.get_by_text("No dead deliveries.")).to_be_visible()

            await page.goto(base + "/admin")
            await expect(page.locator("figure.chart svg")).to_have_count(2)
            ARTIFACTS.mkdir(exist_ok=True)
            await page.screenshot(path=str(ARTIFACTS / "admin.png"), full_page=True)
            assert violations == []
        finally:
            await browser.close()

    async with app.state.db.transaction() as session:
        follower = await session.get(Follower, COOP)
        delivery = await session.get(OutboxDelivery, ids["dead"])
        assert follower is not None and follower.state == "accepted"
        assert delivery is not None and delivery.status == "pending"
