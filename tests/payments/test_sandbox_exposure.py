"""The sandbox served on a public origin trusts nobody (issue 14).

Over real HTTP on loopback: a key sees only its own checkouts, and the sandbox sends
browsers (``redirect_url``) and webhooks (``return_url``) only to the origins it was given.
Each refusal changes nothing: no checkout in the books, no request at the listener.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import httpx
import pytest

from payments import CheckoutStatus
from payments.sumup import SumUpClient
from tests.payments.support import (
    API_KEY,
    MERCHANT,
    SandboxHarness,
    press,
    running_receiver,
    running_sandbox,
)

OTHER_KEY = "sup_sk_another_shop_9876543210"


@pytest.fixture
async def two_shops() -> AsyncIterator[tuple[SandboxHarness, SumUpClient]]:
    """One sandbox that two keys may use: the harness's client and another shop's."""
    async with running_sandbox(api_keys=(API_KEY, OTHER_KEY)) as harness:
        async with SumUpClient(
            api_key=OTHER_KEY, merchant_code=MERCHANT, base_url=harness.origin
        ) as other:
            yield harness, other


async def create(client: SumUpClient, **changes: Any) -> Any:
    fields: dict[str, Any] = {
        "reference": str(uuid.uuid4()),
        "amount": Decimal("12.00"),
        "currency": "EUR",
        "description": "A loaf",
        "return_url": None,
        "redirect_url": None,
        "valid_until": None,
    }
    return await client.create_checkout(**{**fields, **changes})


async def test_a_key_sees_only_the_checkouts_it_made(
    two_shops: tuple[SandboxHarness, SumUpClient],
) -> None:
    harness, other = two_shops
    mine = await create(harness.client)
    await press(harness.browser, mine.hosted_checkout_url, "pay")
    paid = await harness.client.fetch_checkout(mine.id)
    auth = {"Authorization": f"Bearer {OTHER_KEY}"}

    read = await harness.browser.get(f"{harness.origin}/v0.1/checkouts/{mine.id}", headers=auth)
    assert read.status_code == 404 and read.json()["error_code"] == "NOT_FOUND"
    listed = await harness.browser.get(f"{harness.origin}/v0.1/checkouts", headers=auth)
    assert listed.status_code == 200 and listed.json() == []
    by_reference = await harness.browser.get(
        f"{harness.origin}/v0.1/checkouts",
        params={"checkout_reference": mine.reference},
        headers=auth,
    )
    assert by_reference.json() == []
    refund_url = (
        f"{harness.origin}/v1.0/merchants/{MERCHANT}/payments/{paid.transaction_id}/refunds"
    )
    refused = await harness.browser.post(refund_url, headers=auth)
    assert refused.status_code == 404
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["detail"] == "Transaction not found"

    # Nothing changed: the money is still there, and the owner still sees everything.
    again = await harness.client.fetch_checkout(mine.id)
    assert again.status is CheckoutStatus.PAID
    assert [t.status for t in again.transactions] == ["SUCCESSFUL"]
    assert await harness.client.find_by_reference(mine.reference) == again


async def test_the_same_reference_under_two_keys_is_two_checkouts(
    two_shops: tuple[SandboxHarness, SumUpClient],
) -> None:
    # A 409 across keys would tell one shop which references another has used.
    harness, other = two_shops
    reference = str(uuid.uuid4())
    mine = await create(harness.client, reference=reference)
    theirs = await create(other, reference=reference)
    assert mine.id != theirs.id


@pytest.mark.parametrize("field", ["redirect_url", "return_url"])
@pytest.mark.parametrize(
    "url",
    [
        "https://evil.example/phish",
        "https://cart.test.evil.example/",
        "https://cart.test:8443/",
        "http://cart.test/",
        "https://user@cart.test/",
    ],
)
async def test_a_url_off_the_allowed_origins_is_refused_and_nothing_is_made(
    harness: SandboxHarness, field: str, url: str
) -> None:
    reference = str(uuid.uuid4())
    answer = await harness.browser.post(
        f"{harness.origin}/v0.1/checkouts",
        json={
            "checkout_reference": reference,
            "amount": 5,
            "currency": "EUR",
            "merchant_code": MERCHANT,
            field: url,
        },
        headers={"Authorization": f"Bearer {API_KEY}"},
    )
    assert answer.status_code == 400
    assert answer.json() == {"message": "Validation error", "error_code": "INVALID", "param": field}
    assert await harness.client.find_by_reference(reference) is None


async def test_pay_never_redirects_or_calls_back_off_the_allowed_origins(
    harness: SandboxHarness,
) -> None:
    """Were a foreign URL ever in the books, Pay would still neither follow nor call it."""
    async with running_receiver() as foreign:
        checkout = await create(
            harness.client, redirect_url="https://cart.test/back", return_url=harness.receiver.url
        )
        booked = harness.sandbox.ledger.get(checkout.id)
        booked.redirect_url = "https://evil.example/phish"
        booked.return_url = foreign.url
        delivered = len(harness.sandbox.webhooks.deliveries)

        paid = await press(harness.browser, checkout.hosted_checkout_url, "pay")
        assert paid.status_code == 303
        assert paid.headers["location"] == checkout.hosted_checkout_url
        page = await harness.browser.get(checkout.hosted_checkout_url)
        assert "evil.example" not in page.text
        await harness.sandbox.webhooks.drain()
        assert foreign.bodies == []
        assert len(harness.sandbox.webhooks.deliveries) == delivered


async def test_webhooks_go_through_the_client_the_host_gives() -> None:
    """A host's client that refuses an address (as the shop's SSRF guard does) means no
    request reaches it; the sandbox records the webhook as unanswered and carries on."""

    class Refusing(httpx.AsyncBaseTransport):
        calls = 0

        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            Refusing.calls += 1
            raise PermissionError(f"{request.url.host} is not a public address")

    async with httpx.AsyncClient(transport=Refusing()) as guarded:
        async with running_sandbox(http=guarded) as harness:
            checkout = await create(harness.client, return_url=harness.receiver.url)
            paid = await press(harness.browser, checkout.hosted_checkout_url, "pay")
            assert paid.status_code == 303
            assert Refusing.calls == 1
            assert harness.receiver.bodies == []
            (delivery,) = harness.sandbox.webhooks.deliveries
            assert delivery.status is None
            fetched = await harness.client.fetch_checkout(checkout.id)
            assert fetched.status is CheckoutStatus.PAID
