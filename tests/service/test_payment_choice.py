"""Taking money is an explicit choice: SumUp credentials, or the demo sandbox on request.

Issue 14: with no SumUp key the service used to mount the sandbox on its public origin and
take "payments" nobody received. Now, without credentials and without
ROSE_CART_SUMUP_SANDBOX=true, checkout refuses (and says how to fix it), start-up logs an
error, /readyz says so, and no sandbox is served. Over real HTTP on loopback.
"""

from __future__ import annotations

import logging
from pathlib import Path

import httpx
import pytest
from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from payments.unconfigured import NotConfigured, PaymentsNotConfigured
from service.settings import Settings
from tests.cart.checkout_support import BAKERY_KEY, orders
from tests.cart.web_support import seed
from tests.payments.support import press
from tests.support.factories import product
from tests.support.shop import fill_page_cart, live_shop
from tests.support.state import snapshot


async def test_without_credentials_the_shop_refuses_orders_and_says_how_to_fix_it(
    tmp_path: Path, database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR, logger="rose_cart.payments"):
        async with live_shop(tmp_path, database_url, sumup_sandbox=False) as shop:
            (started,) = [r for r in caplog.records if r.name == "rose_cart.payments"]
            assert started.levelno == logging.ERROR
            assert "ROSE_CART_SUMUP_SANDBOX" in started.getMessage()
            assert "ROSE_CART_SUMUP_API_KEY" in started.getMessage()
            (loaf,) = await seed(shop.app, product(42))
            async with shop.client() as shopper:
                ready = await shopper.get("/readyz")
                assert ready.status_code == 200
                assert ready.json()["payments"] == "not configured"
                assert (await shopper.get("/sumup-sandbox/v0.1/checkouts")).status_code == 404

                token = await fill_page_cart(shopper, loaf, BAKERY_KEY)
                before = await snapshot(shop.app.state.db)
                page = await shopper.post(
                    f"/cart/page/{BAKERY_KEY}/checkout",
                    data={"csrf_token": token},
                    headers={"Accept": "text/html"},
                )
                assert page.status_code == 503
                assert page.headers["content-type"].startswith("text/html")
                assert "cannot take orders" in page.text
                assert "ROSE_CART_SUMUP_SANDBOX" in page.text

                api = await shopper.post(
                    f"/cart/page/{BAKERY_KEY}/checkout",
                    data={"csrf_token": token},
                    headers={"Accept": "application/json"},
                )
                assert api.status_code == 503
                assert api.headers["content-type"] == "application/problem+json"
                problem = api.json()
                assert problem["status"] == 503
                assert "ROSE_CART_SUMUP_MERCHANT_CODE" in problem["detail"]
                assert await snapshot(shop.app.state.db) == before
                assert await orders(shop.app.state.db) == []


async def test_the_unconfigured_provider_can_never_say_paid() -> None:
    provider = NotConfigured("no payments here", "payments: not configured")
    calls = [
        provider.fetch_checkout("c"),
        provider.find_by_reference("r"),
        provider.refund("t"),
    ]
    for call in calls:
        with pytest.raises(PaymentsNotConfigured) as refused:
            await call
        assert refused.value.shopper_message == "no payments here"


@pytest.mark.parametrize(
    "other", [{"sumup_api_key": "sk"}, {"sumup_api_url": "https://sandbox.example"}]
)
def test_the_sandbox_is_not_combined_with_sumup_settings(
    tmp_path: Path, other: dict[str, str]
) -> None:
    with pytest.raises(ValidationError, match="ROSE_CART_SUMUP_SANDBOX=true"):
        Settings(data_dir=tmp_path, sumup_sandbox=True, **other)  # type: ignore[arg-type]


async def test_the_mounted_sandbox_takes_only_its_own_key(
    tmp_path: Path, database_url: str
) -> None:
    async with live_shop(tmp_path, database_url) as shop:
        sandbox = shop.app.state.payments.sandbox.state.sandbox
        async with shop.client() as stranger:
            assert (await stranger.get("/readyz")).json()["payments"] == "sandbox"
            for key in ("anything", "sandbox", "x" * 43):
                auth = {"Authorization": f"Bearer {key}"}
                listed = await stranger.get("/sumup-sandbox/v0.1/checkouts", headers=auth)
                assert listed.status_code == 401 and listed.json()["title"] == "Unauthorized"
                made = await stranger.post(
                    "/sumup-sandbox/v0.1/checkouts",
                    json={
                        "checkout_reference": "x",
                        "amount": 1,
                        "currency": "EUR",
                        "merchant_code": "SANDBOX",
                        "redirect_url": "https://evil.example/",
                    },
                    headers=auth,
                )
                assert made.status_code == 401
        assert sandbox.ledger.find(None, "") == []


@pytest.mark.parametrize(("allow_private", "webhooks"), [(False, 0), (True, 1)])
async def test_the_sandbox_webhook_goes_through_the_ssrf_guard(
    tmp_path: Path, database_url: str, allow_private: bool, webhooks: int
) -> None:
    """The shop is on loopback; with private addresses off, the guard refuses the
    sandbox's webhook to it (no request arrives), as it would any private address."""
    arrived: list[bytes] = []

    async def count(request: Request) -> Response:
        arrived.append(await request.body())
        return Response(status_code=204)

    async with live_shop(tmp_path, database_url, allow_private_addresses=allow_private) as shop:
        shop.app.router.routes.insert(0, Route("/webhooks/sumup", count, methods=["POST"]))
        (loaf,) = await seed(shop.app, product(42))
        async with shop.client() as shopper, httpx.AsyncClient(timeout=30) as browser:
            token = await fill_page_cart(shopper, loaf, BAKERY_KEY)
            to_pay = await shopper.post(
                f"/cart/page/{BAKERY_KEY}/checkout", data={"csrf_token": token}
            )
            assert to_pay.status_code == 303
            assert to_pay.headers["location"].startswith(f"{shop.origin}/sumup-sandbox/pay/")
            paid = await press(browser, to_pay.headers["location"], "pay")
            assert paid.status_code == 303
            assert paid.headers["location"].startswith(f"{shop.origin}/checkout/return")
        sandbox = shop.app.state.payments.sandbox.state.sandbox
        await sandbox.webhooks.drain()
        assert len(arrived) == webhooks
        (delivery,) = sandbox.webhooks.deliveries
        assert (delivery.status is None) is (not allow_private)
