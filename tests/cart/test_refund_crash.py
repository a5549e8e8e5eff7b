"""A partial refund is made once even when the cart dies between SumUp's answer and its own
COMMIT: the next attempt reads the payment's refunds from the provider (a real sandbox
on loopback) before asking again. A line refunded in full has its claim released."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from cart.orders.models import OrderRefund, ShopOrder, ShopOrderItem
from cart.orders.orders import transition
from cart.orders.payment import PaymentLinks, start_payment
from cart.orders.reconcile import carry_out_refund, reconcile, reconcile_pending
from cart.orders.refunds import (
    LEASE,
    RefundAsk,
    carry_out_partial,
    refunds_shown_sync,
    request_refund,
)
from cart.orders.states import OrderStatus
from payments import ProviderUnavailable
from store import Database, utcnow
from tests.cart.checkout_support import (
    BAKERY_KEY,
    SHOPPER,
    cart_actor,
    checkout,
    fill,
    kinds,
    published,
    stock_shop,
)
from tests.cart.reconcile_support import Paying, pay, sandbox
from tests.payments.support import SandboxHarness


class Crash(BaseException):
    """The process dies: nothing after this line of the worker runs."""


class DiesAfterRefund:
    """The sandbox client, except that the process dies once SumUp has made the refund."""

    def __init__(self, inner, *, before: bool = False) -> None:  # type: ignore[no-untyped-def]
        self.inner, self.before = inner, before

    def __getattr__(self, name: str):  # type: ignore[no-untyped-def]
        return getattr(self.inner, name)

    async def refund(self, *args: object, **kwargs: object) -> None:
        if self.before:
            raise Crash
        await self.inner.refund(*args, **kwargs)
        raise Crash


class AnswerLost:
    """The refund is made but its answer never comes back (a timeout after the send)."""

    def __init__(self, inner) -> None:  # type: ignore[no-untyped-def]
        self.inner = inner

    def __getattr__(self, name: str):  # type: ignore[no-untyped-def]
        return getattr(self.inner, name)

    async def refund(self, *args: object, **kwargs: object) -> None:
        await self.inner.refund(*args, **kwargs)
        raise ProviderUnavailable("refund: ReadTimeout talking to the provider")


async def dies(db: Database, provider: DiesAfterRefund, refund_id: int, now: datetime) -> None:
    """Run the refund worker until the process dies under it."""
    with pytest.raises(Crash):
        await carry_out_partial(db, provider, refund_id, cart_actor(), now=now)  # type: ignore[arg-type]


async def paid_loaves_and_rye(db: Database, harness: SandboxHarness) -> int:
    """A paid bakery order: two loaves at 3.50 and one rye at 4.20 (11.20 in all)."""
    shop = await stock_shop(db)
    await fill(db, SHOPPER, (shop["loaf"], 2), (shop["rye"], 1))
    now = utcnow()
    placed = await checkout(db, page_key=BAKERY_KEY, now=now)
    links = PaymentLinks(harness.receiver.origin)
    url = await start_payment(db, harness.client, placed.order.id, links, now=now)
    await pay(harness, Paying(placed.order.id, url, now))
    await reconcile(db, harness.client, placed.order.id, cart_actor(), now=utcnow())
    return placed.order.id


async def ask_refund(db: Database, order_id: int, lines: dict[int, int]) -> int:
    async with db.transaction() as session:
        await request_refund(
            session, order_id, RefundAsk("Broken in transit", lines), by="ops", now=utcnow()
        )
        ids = (await session.execute(select(OrderRefund.id).order_by(OrderRefund.id))).scalars()
        return list(ids)[-1]


async def refund_state(db: Database, refund_id: int) -> str:
    async with db.transaction() as session:
        refund = await session.get(OrderRefund, refund_id)
        assert refund is not None
        return refund.state


def refunded_at_sumup(harness: SandboxHarness, db_order: ShopOrder) -> list[Decimal]:
    assert db_order.checkout_id is not None
    (transaction,) = harness.sandbox.ledger.get(db_order.checkout_id).transactions
    return [amount for amount, _ in transaction.refunds]


async def the_order(db: Database, order_id: int) -> tuple[ShopOrder, list[ShopOrderItem]]:
    async with db.transaction() as session:
        order = await session.get(ShopOrder, order_id)
        assert order is not None
        query = select(ShopOrderItem).where(ShopOrderItem.order_id == order_id)
        items = list((await session.execute(query.order_by(ShopOrderItem.position))).scalars())
        return order, items


async def test_a_crash_between_sumup_and_our_commit_refunds_once(db: Database) -> None:
    async with sandbox() as harness:
        order_id = await paid_loaves_and_rye(db, harness)
        refund_id = await ask_refund(db, order_id, {2: 1})  # the rye, 4.20
        moment = utcnow()
        await dies(db, DiesAfterRefund(harness.client), refund_id, moment)
        order, _ = await the_order(db, order_id)
        assert refunded_at_sumup(harness, order) == [Decimal("4.20")]
        assert await refund_state(db, refund_id) == "requested"  # we never heard back
        # Another worker, while the dead one's lease runs: it waits.
        assert (
            await carry_out_partial(db, harness.client, refund_id, cart_actor(), now=utcnow())
            is None
        )
        later = moment + LEASE + timedelta(seconds=1)
        state = await carry_out_partial(db, harness.client, refund_id, cart_actor(), now=later)
        assert state == "done"
        assert refunded_at_sumup(harness, order) == [Decimal("4.20")], "refunded once"
        order, items = await the_order(db, order_id)
        assert order.status == "paid" and order.flag is None
        assert kinds(await published(db)).count("OrderRefunded") == 1
        # The rye went back in full: its claim is released; the loaves' stays.
        assert [item.claim_state for item in items] == ["requested", "released"]
        # What the shopper's order page lists: the one refund, once.
        (shown,) = await db.read(refunds_shown_sync, order_id)
        assert str(shown.amount) == "£4.20" and shown.lines == ((items[1].name, 1),)
        assert shown.state == "done" and shown.reason == "Broken in transit"


async def test_a_crash_before_the_call_still_refunds_once_later(db: Database) -> None:
    async with sandbox() as harness:
        order_id = await paid_loaves_and_rye(db, harness)
        refund_id = await ask_refund(db, order_id, {1: 1})  # one loaf, 3.50
        moment = utcnow()
        await dies(db, DiesAfterRefund(harness.client, before=True), refund_id, moment)
        order, _ = await the_order(db, order_id)
        assert refunded_at_sumup(harness, order) == []
        later = moment + LEASE + timedelta(seconds=1)
        report = await reconcile_pending(db, harness.client, cart_actor(), now=later)
        assert report.refunded == 1 and await refund_state(db, refund_id) == "done"
        assert refunded_at_sumup(harness, order) == [Decimal("3.50")]
        _, items = await the_order(db, order_id)
        assert [item.claim_state for item in items] == ["requested", "requested"]  # 1 of 2


async def test_a_lost_answer_is_found_made_and_a_later_refund_waits_its_turn(
    db: Database,
) -> None:
    async with sandbox() as harness:
        order_id = await paid_loaves_and_rye(db, harness)
        first = await ask_refund(db, order_id, {1: 1})
        second = await ask_refund(db, order_id, {1: 1})  # the other loaf
        moment = utcnow()
        lost = AnswerLost(harness.client)
        assert await carry_out_partial(db, lost, first, cart_actor(), now=moment) == "requested"
        # The second may not go before the first is settled: the provider's total would
        # no longer tell whether the first was made.
        assert (
            await carry_out_partial(db, harness.client, second, cart_actor(), now=utcnow()) is None
        )
        report = await reconcile_pending(db, harness.client, cart_actor(), now=moment)
        assert report.refunded == 2
        order, items = await the_order(db, order_id)
        assert refunded_at_sumup(harness, order) == [Decimal("3.50"), Decimal("3.50")]
        assert [item.claim_state for item in items] == ["released", "requested"]
        assert kinds(await published(db)).count("OrderRefunded") == 2


async def test_books_that_do_not_add_up_leave_the_refund_to_the_operator(db: Database) -> None:
    async with sandbox() as harness:
        order_id = await paid_loaves_and_rye(db, harness)
        refund_id = await ask_refund(db, order_id, {2: 1})
        moment = utcnow()
        lost = AnswerLost(harness.client)
        assert await carry_out_partial(db, lost, refund_id, cart_actor(), now=moment) == "requested"
        order, _ = await the_order(db, order_id)
        assert order.transaction_id is not None
        # Someone refunds by hand at SumUp meanwhile: the books no longer tell.
        await harness.client.refund(order.transaction_id, Decimal("1.00"), currency="GBP")
        state = await carry_out_partial(db, harness.client, refund_id, cart_actor(), now=moment)
        assert state == "failed"
        order, _ = await the_order(db, order_id)
        assert order.flag is not None and "check the payment" in order.flag
        assert refunded_at_sumup(harness, order) == [Decimal("4.20"), Decimal("1.00")]


async def test_a_whole_refund_after_a_partial_one_gives_back_the_rest(db: Database) -> None:
    """SumUp calls a payment REFUNDED once any of it went back: that alone must not make
    the refund of the rest (a calendar's Reject after payment) look done."""
    async with sandbox() as harness:
        order_id = await paid_loaves_and_rye(db, harness)
        refund_id = await ask_refund(db, order_id, {2: 1})
        assert (
            await carry_out_partial(db, harness.client, refund_id, cart_actor(), now=utcnow())
            == "done"
        )
        async with db.transaction() as session:
            await transition(
                session,
                order_id,
                OrderStatus.REFUND_REQUESTED,
                note="The market said no",
                now=utcnow(),
            )
        outcome = await carry_out_refund(db, harness.client, order_id, cart_actor(), now=utcnow())
        assert outcome is OrderStatus.REFUNDED
        order, _ = await the_order(db, order_id)
        assert refunded_at_sumup(harness, order) == [Decimal("4.20"), Decimal("7.00")]
        sent = [a for a in await published(db) if kinds([a]) == ["OrderRefunded"]]
        assert [a["total"]["amount"] for a in sent] == ["4.20", "7.00"]
        assert [(i["name"], i["quantity"]) for i in sent[-1]["items"]] == [("Sourdough loaf", 2)]
