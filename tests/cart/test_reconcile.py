"""Reconciliation against the SumUp sandbox over real HTTP: money and orders agree."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from decimal import Decimal

from actor.incoming import IncomingActivity
from cart.orders.orders import get_order, items_of
from cart.orders.reconcile import carry_out_refund, reconcile, reconcile_pending
from cart.orders.states import OrderStatus
from payments import ProviderUnavailable
from payments.exceptions import RefundRefused
from store import Database, utcnow
from tests.cart.checkout_support import cart_actor, claims_registry, kinds, published
from tests.cart.reconcile_support import order_with_checkout, pay, sandbox
from tests.support.factories import CALENDAR
from vocab.model import Reject


async def _order(db: Database, order_id: int):  # type: ignore[no-untyped-def]
    async with db.transaction() as session:
        return await get_order(session, order_id), await items_of(session, order_id)


async def test_paid_on_the_hosted_page_then_reconciled_the_order_is_paid_once(db: Database) -> None:
    async with sandbox() as harness:
        paying = await order_with_checkout(db, harness)
        await pay(harness, paying)
        # The webhook reached the receiver; it only says "look at this checkout".
        order, _ = await _order(db, paying.order_id)
        assert harness.receiver.notices(order.checkout_id or "")

        status = await reconcile(db, harness.client, paying.order_id, cart_actor(), now=utcnow())
        again = await reconcile(db, harness.client, paying.order_id, cart_actor(), now=utcnow())

    assert status is OrderStatus.PAID and again is OrderStatus.PAID
    order, _ = await _order(db, paying.order_id)
    assert order.paid_at is not None and order.transaction_id
    activities = await published(db)
    assert kinds(activities) == ["Create", "OrderPaid"]
    paid = activities[1]
    assert paid["type"] == ["Activity", "OrderPaid"]
    assert paid["object"] == order.ap_id and paid["paymentReference"] == order.checkout_id
    assert paid["total"]["amount"] == "7.00"


async def test_concurrent_webhooks_make_exactly_one_paid_transition(
    db: Database, database_url: str
) -> None:
    async with sandbox() as harness:
        paying = await order_with_checkout(db, harness)
        await pay(harness, paying)
        other = Database(database_url)
        try:
            results = await asyncio.gather(
                *(
                    reconcile(d, harness.client, paying.order_id, cart_actor(), now=utcnow())
                    for d in (db, other, db, other)
                )
            )
        finally:
            await other.dispose()
    assert set(results) == {OrderStatus.PAID}
    assert kinds(await published(db)) == ["Create", "OrderPaid"]


async def test_an_unpaid_checkout_changes_nothing(db: Database) -> None:
    async with sandbox() as harness:
        paying = await order_with_checkout(db, harness)
        status = await reconcile(db, harness.client, paying.order_id, cart_actor(), now=utcnow())
    assert status is OrderStatus.PENDING
    assert kinds(await published(db)) == ["Create"]


async def test_failed_is_not_final_and_the_shopper_can_pay_after(db: Database) -> None:
    async with sandbox() as harness:
        paying = await order_with_checkout(db, harness)
        await pay(harness, paying, "decline")
        after_decline = await reconcile(
            db, harness.client, paying.order_id, cart_actor(), now=utcnow()
        )
        order, _ = await _order(db, paying.order_id)
        assert (after_decline, order.provider_status) == (OrderStatus.PENDING, "FAILED")

        await pay(harness, paying)
        assert (
            await reconcile(db, harness.client, paying.order_id, cart_actor(), now=utcnow())
            is OrderStatus.PAID
        )


async def test_an_amount_mismatch_is_not_paid_but_flagged(db: Database) -> None:
    async with sandbox() as harness:
        paying = await order_with_checkout(db, harness)
        # The order says 7.00; pretend our record was 7.01 when the checkout was made.
        from sqlalchemy import update

        from cart.orders.models import ShopOrder

        async with db.transaction() as session:
            await session.execute(
                update(ShopOrder)
                .where(ShopOrder.id == paying.order_id)
                .values(total_amount=Decimal("7.01"))
            )
        await pay(harness, paying)
        status = await reconcile(db, harness.client, paying.order_id, cart_actor(), now=utcnow())
        later = paying.placed_at + timedelta(minutes=3)
        report = await reconcile_pending(db, harness.client, cart_actor(), now=later)

    order, _ = await _order(db, paying.order_id)
    assert status is OrderStatus.PENDING
    assert order.flag and "amount 7.00 is not 7.01" in order.flag
    assert report.reconciled == 0  # flagged orders wait for the operator
    assert kinds(await published(db)) == ["Create"]


async def test_lost_webhooks_are_caught_by_the_reconciler_step(db: Database) -> None:
    async with sandbox(webhook_shape="none") as harness:
        paying = await order_with_checkout(db, harness)
        await pay(harness, paying)
        too_soon = await reconcile_pending(db, harness.client, cart_actor(), now=utcnow())
        later = paying.placed_at + timedelta(minutes=3)
        report = await reconcile_pending(db, harness.client, cart_actor(), now=later)
    assert too_soon.reconciled == 0  # its webhook may still come: no provider call yet
    assert report.reconciled == 1 and not report  # nothing left for an immediate rerun
    order, _ = await _order(db, paying.order_id)
    assert order.status == "paid"


async def test_expiry_cancels_the_order_and_releases_its_claims(db: Database) -> None:
    async with sandbox() as harness:
        paying = await order_with_checkout(db, harness, with_entry=True)
        harness.clock.advance(timedelta(minutes=31))
        later = paying.placed_at + timedelta(minutes=31)
        await reconcile_pending(db, harness.client, cart_actor(), now=later)
        await reconcile_pending(db, harness.client, cart_actor(), now=later)

    order, items = await _order(db, paying.order_id)
    assert order.status == "expired" and order.shopper_note
    assert [item.claim_state for item in items] == ["released"]
    activities = await published(db)
    assert kinds(activities) == ["Create", "OrderCancelled"]
    assert activities[1]["cc"] == [CALENDAR]


async def test_a_payment_after_expiry_is_refunded(db: Database) -> None:
    async with sandbox() as harness:
        paying = await order_with_checkout(db, harness)
        await pay(harness, paying)
        # Our clock ran past valid_until before we heard of the payment.
        order, _ = await _order(db, paying.order_id)
        from cart.orders.orders import void_order

        async with db.transaction() as session:
            await void_order(
                session, order.id, OrderStatus.EXPIRED, cart_actor(), note="expired", now=utcnow()
            )
        status = await reconcile(db, harness.client, paying.order_id, cart_actor(), now=utcnow())
        assert status is OrderStatus.REFUND_REQUESTED
        report = await reconcile_pending(db, harness.client, cart_actor(), now=utcnow())
        checkout = await harness.client.fetch_checkout(order.checkout_id or "")
    assert report.refunded == 1
    assert (await _order(db, paying.order_id))[0].status == "refunded"
    assert [t.status for t in checkout.transactions] == ["REFUNDED"]


def _reject(order_ap_id: str, summary: str) -> IncomingActivity:
    activity = Reject(
        id="https://calendar.example/activities/r1",
        actor=CALENDAR,
        object=order_ap_id,
        summary=summary,
    )
    return IncomingActivity(activity.id, CALENDAR, activity, {})


async def test_a_calendar_reject_after_payment_refunds_through_the_provider(db: Database) -> None:
    claims = claims_registry()
    async with sandbox() as harness:
        paying = await order_with_checkout(db, harness, with_entry=True)
        await pay(harness, paying)
        await reconcile(db, harness.client, paying.order_id, cart_actor(), now=utcnow())
        order, _ = await _order(db, paying.order_id)
        async with db.transaction() as session:
            await claims.dispatch(session, _reject(order.ap_id, "Class cancelled: teacher ill"))
        assert (await _order(db, paying.order_id))[0].status == "refund_requested"

        report = await reconcile_pending(db, harness.client, cart_actor(), now=utcnow())
        checkout = await harness.client.fetch_checkout(order.checkout_id or "")

    order, items = await _order(db, paying.order_id)
    assert report.refunded == 1 and order.status == "refunded"
    assert order.shopper_note and "teacher ill" in order.shopper_note
    assert [item.claim_state for item in items] == ["rejected"]
    assert [t.status for t in checkout.transactions] == ["REFUNDED"]
    assert kinds(await published(db)) == ["Create", "OrderPaid", "OrderCancelled", "OrderRefunded"]


class RefusingRefunds:
    """The sandbox client, except that refunds fail the way the caller says."""

    def __init__(self, inner, error: Exception) -> None:  # type: ignore[no-untyped-def]
        self.inner, self.error = inner, error

    def __getattr__(self, name: str):  # type: ignore[no-untyped-def]
        return getattr(self.inner, name)

    async def refund(self, *args: object, **kwargs: object) -> None:
        raise self.error


async def test_a_refused_refund_leaves_the_order_needing_a_refund(db: Database) -> None:
    claims = claims_registry()
    async with sandbox() as harness:
        paying = await order_with_checkout(db, harness, with_entry=True)
        await pay(harness, paying)
        await reconcile(db, harness.client, paying.order_id, cart_actor(), now=utcnow())
        order, _ = await _order(db, paying.order_id)
        async with db.transaction() as session:
            await claims.dispatch(session, _reject(order.ap_id, "Double booked"))

        flaky = RefusingRefunds(harness.client, ProviderUnavailable("refund: HTTP 503", 503))
        assert (
            await carry_out_refund(db, flaky, paying.order_id, cart_actor(), now=utcnow())
            is OrderStatus.REFUND_REQUESTED
        )
        refused = RefusingRefunds(
            harness.client, RefundRefused("refund", 409, error_code="NOT_ALLOWED")
        )
        assert (
            await carry_out_refund(db, refused, paying.order_id, cart_actor(), now=utcnow())
            is OrderStatus.NEEDS_REFUND
        )

    order, _ = await _order(db, paying.order_id)
    assert order.status == "needs_refund" and order.flag and "NOT_ALLOWED" in order.flag
