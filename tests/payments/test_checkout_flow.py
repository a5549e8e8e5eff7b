"""The SumUp client against the sandbox over real HTTP: what the shop and shopper see."""

from __future__ import annotations

import uuid
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest

from payments import Checkout, CheckoutStatus, TransactionStatus, parse_webhook
from payments.exceptions import CheckoutExpired
from tests.payments.support import SandboxHarness, press, running_sandbox


async def create(harness: SandboxHarness, amount: str = "10.10", **extra: Any) -> Checkout:
    options: dict[str, Any] = {
        "reference": extra.pop("reference", str(uuid.uuid4())),
        "amount": Decimal(amount),
        "currency": extra.pop("currency", "EUR"),
        "description": "Two jars of honey",
        "return_url": harness.receiver.url,
        "redirect_url": "https://cart.test/orders/42/return",
        "valid_until": harness.clock.now + timedelta(minutes=30),
    }
    options.update(extra)
    return await harness.client.create_checkout(**options)


async def test_given_a_new_checkout_when_the_shopper_pays_then_the_shop_sees_it_paid(
    harness: SandboxHarness,
) -> None:
    checkout = await create(harness)
    assert checkout.status is CheckoutStatus.PENDING
    assert checkout.amount == Decimal("10.10") and checkout.currency == "EUR"
    assert checkout.reference and len(checkout.reference) == 36
    assert checkout.hosted_checkout_url and checkout.hosted_checkout_url.startswith(harness.origin)
    assert checkout.transaction_id is None

    answer = await press(harness.browser, checkout.hosted_checkout_url, "pay")

    assert answer.status_code == 303
    assert answer.headers["location"] == "https://cart.test/orders/42/return"
    assert [n.shape for n in harness.receiver.notices(checkout.id)] == ["legacy"]
    paid = await harness.client.fetch_checkout(checkout.id)
    assert paid.status is CheckoutStatus.PAID
    assert paid.amount == Decimal("10.10")
    assert paid.transaction_id is not None
    assert [t.status for t in paid.transactions] == [TransactionStatus.SUCCESSFUL]
    assert paid.transactions[0].amount == Decimal("10.10")


@pytest.mark.parametrize("shape", ["event", "both"])
async def test_webhooks_in_the_newer_envelope_name_the_same_checkout(shape: str) -> None:
    async with running_sandbox(webhook_shape=shape) as harness:
        checkout = await create(harness)
        await press(harness.browser, checkout.hosted_checkout_url or "", "pay")
        notices = [parse_webhook(body) for body in harness.receiver.bodies]
        expected = {"event": ["event"], "both": ["legacy", "event"]}[shape]
        assert [n.shape for n in notices if n] == expected
        assert {n.checkout_id for n in notices if n} == {checkout.id}
        assert len(notices) == len(harness.receiver.bodies)  # each body was one we can read


async def test_duplicate_and_delayed_webhooks_all_arrive() -> None:
    async with running_sandbox(webhook_copies=2, webhook_delay=0.05) as harness:
        checkout = await create(harness)
        answer = await press(harness.browser, checkout.hosted_checkout_url or "", "pay")
        assert answer.status_code == 303
        await harness.sandbox.webhooks.drain()
        notices = [parse_webhook(body) for body in harness.receiver.bodies]
        assert [n.checkout_id for n in notices if n] == [checkout.id, checkout.id]


async def test_a_lost_webhook_leaves_the_api_as_the_only_truth() -> None:
    async with running_sandbox(webhook_shape="none") as harness:
        checkout = await create(harness)
        await press(harness.browser, checkout.hosted_checkout_url or "", "pay")
        assert harness.receiver.bodies == []
        assert (await harness.client.fetch_checkout(checkout.id)).status is CheckoutStatus.PAID


async def test_declined_then_paid_on_retry_like_sumups_hosted_page(
    harness: SandboxHarness,
) -> None:
    checkout = await create(harness)
    url = checkout.hosted_checkout_url or ""

    declined = await press(harness.browser, url, "decline")

    assert declined.status_code == 303 and declined.headers["location"] == url
    failed = await harness.client.fetch_checkout(checkout.id)
    assert failed.status is CheckoutStatus.FAILED
    assert failed.transaction_id is None
    page = await harness.browser.get(url)
    assert "declined" in page.text and 'value="pay"' in page.text

    await press(harness.browser, url, "pay")

    paid = await harness.client.fetch_checkout(checkout.id)
    assert paid.status is CheckoutStatus.PAID
    assert [t.status for t in paid.transactions] == ["FAILED", "SUCCESSFUL"]
    assert paid.transaction_id == paid.transactions[1].id
    assert len(harness.receiver.notices(checkout.id)) == 2  # one per status change


async def test_sumups_failing_test_amount_fails_even_when_the_shopper_pays(
    harness: SandboxHarness,
) -> None:
    checkout = await create(harness, amount="11.00")
    answer = await press(harness.browser, checkout.hosted_checkout_url or "", "pay")
    assert answer.headers["location"] == checkout.hosted_checkout_url
    assert (await harness.client.fetch_checkout(checkout.id)).status is CheckoutStatus.FAILED


async def test_a_reused_reference_returns_the_same_checkout(harness: SandboxHarness) -> None:
    reference = str(uuid.uuid4())
    first = await create(harness, reference=reference)
    second = await create(harness, reference=reference)
    assert second.id == first.id
    assert second.hosted_checkout_url == first.hosted_checkout_url
    found = await harness.client.find_by_reference(reference)
    assert found is not None and found.id == first.id
    assert await harness.client.find_by_reference(str(uuid.uuid4())) is None


async def test_a_reused_reference_after_payment_shows_it_paid(harness: SandboxHarness) -> None:
    first = await create(harness)
    await press(harness.browser, first.hosted_checkout_url or "", "pay")
    again = await create(harness, reference=first.reference)
    assert again.id == first.id and again.status is CheckoutStatus.PAID


async def test_after_valid_until_the_checkout_expires_and_cannot_be_paid(
    harness: SandboxHarness,
) -> None:
    checkout = await create(harness)
    harness.clock.advance(timedelta(minutes=31))

    assert (await harness.client.fetch_checkout(checkout.id)).status is CheckoutStatus.EXPIRED
    page = await harness.browser.get(checkout.hosted_checkout_url or "")
    assert "expired" in page.text and 'value="pay"' not in page.text
    with pytest.raises(CheckoutExpired) as raised:
        await create(harness, reference=checkout.reference)
    assert "check out again" in raised.value.shopper_message


async def test_a_paid_checkout_never_expires(harness: SandboxHarness) -> None:
    checkout = await create(harness)
    await press(harness.browser, checkout.hosted_checkout_url or "", "pay")
    harness.clock.advance(timedelta(hours=2))
    assert (await harness.client.fetch_checkout(checkout.id)).status is CheckoutStatus.PAID


async def test_refund_moves_the_paid_transaction_to_refunded(harness: SandboxHarness) -> None:
    checkout = await create(harness, amount="25.00")
    await press(harness.browser, checkout.hosted_checkout_url or "", "pay")
    paid = await harness.client.fetch_checkout(checkout.id)
    assert paid.transaction_id

    refund = await harness.client.refund(paid.transaction_id)

    assert refund.transaction_id == paid.transaction_id and refund.amount is None
    after = await harness.client.fetch_checkout(checkout.id)
    assert after.status is CheckoutStatus.PAID  # the checkout stays paid; the money went back
    assert [t.status for t in after.transactions] == [TransactionStatus.REFUNDED]
    assert after.transaction_id == paid.transaction_id


async def test_zero_decimal_currency_over_the_wire(harness: SandboxHarness) -> None:
    checkout = await create(harness, amount="1500", currency="CLP")
    assert checkout.amount == Decimal("1500") and checkout.currency == "CLP"
    await press(harness.browser, checkout.hosted_checkout_url or "", "pay")
    assert (await harness.client.fetch_checkout(checkout.id)).amount == Decimal("1500")
