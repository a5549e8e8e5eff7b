"""Calendar answers to our orders: Accept claims the entries, Reject fails the order."""

from __future__ import annotations

from actor.incoming import IncomingActivity
from cart.orders.orders import get_order, items_of
from store import Database
from tests.cart.checkout_support import (
    SHOPPER,
    VENUE_KEY,
    checkout,
    claims_registry,
    fill,
    kinds,
    published,
    stock_shop,
)
from tests.support.factories import CALENDAR, MARKET, NOW
from vocab.model import Accept, Follow, Reject

CLAIMS = claims_registry(clock=lambda: NOW)


def _answer(
    kind: type[Accept] | type[Reject], order_ap_id: str, sender: str = CALENDAR, **extra: str
) -> IncomingActivity:
    origin = sender.rsplit("/", 1)[0]
    activity = kind(id=f"{origin}/activities/answer", actor=sender, object=order_ap_id, **extra)
    return IncomingActivity(activity.id, sender, activity, {})


async def _placed_booking(db: Database):  # type: ignore[no-untyped-def]
    shop = await stock_shop(db)
    await fill(db, SHOPPER, (shop["class"], 1))
    return (await checkout(db, page_key=VENUE_KEY)).order


async def _state(db: Database, order_id: int) -> tuple[str, list[str | None], str | None]:
    async with db.transaction() as session:
        order = await get_order(session, order_id)
        items = await items_of(session, order_id)
    return order.status, [item.claim_state for item in items], order.shopper_note


async def test_an_accept_from_the_calendar_claims_its_entries(db: Database) -> None:
    order = await _placed_booking(db)
    async with db.transaction() as session:
        await CLAIMS.dispatch(session, _answer(Accept, order.ap_id))
    assert await _state(db, order.id) == ("pending", ["claimed"], None)


async def test_an_answer_from_an_actor_owning_no_entry_changes_nothing(db: Database) -> None:
    order = await _placed_booking(db)
    async with db.transaction() as session:
        await CLAIMS.dispatch(session, _answer(Accept, order.ap_id, sender=MARKET))
        await CLAIMS.dispatch(session, _answer(Reject, order.ap_id, sender=MARKET))
        await CLAIMS.dispatch(session, _answer(Accept, "https://cart.test/orders/unknown"))
        follow = Follow(
            id="https://calendar.example/f", actor=CALENDAR, object="https://cart.test/actor"
        )
        await CLAIMS.dispatch(
            session,
            IncomingActivity(
                "https://calendar.example/a",
                CALENDAR,
                Accept(id="https://calendar.example/a", actor=CALENDAR, object=follow),
                {},
            ),
        )
    assert await _state(db, order.id) == ("pending", ["requested"], None)
    assert kinds(await published(db)) == ["Create"]


async def test_a_reject_before_payment_fails_the_order_and_tells_the_shopper_why(
    db: Database,
) -> None:
    order = await _placed_booking(db)
    async with db.transaction() as session:
        await CLAIMS.dispatch(session, _answer(Reject, order.ap_id, summary="Fully booked"))
        # A repeat (or a late Accept) changes nothing more.
        await CLAIMS.dispatch(session, _answer(Reject, order.ap_id, summary="Fully booked"))
        await CLAIMS.dispatch(session, _answer(Accept, order.ap_id))

    status, claims, note = await _state(db, order.id)
    assert (status, claims) == ("failed", ["rejected"])
    assert note and "Fully booked" in note and "No payment was taken" in note
    activities = await published(db)
    assert kinds(activities) == ["Create", "OrderCancelled"]
    assert activities[1]["summary"] == "Fully booked" and activities[1]["cc"] == [CALENDAR]


def test_the_handlers_are_registered_for_calendar_and_market_peers_only() -> None:
    answer = _answer(Accept, "https://cart.test/orders/1").activity
    refusal = _answer(Reject, "https://cart.test/orders/1").activity
    assert CLAIMS.registry.allowed(answer, {"calendar"})
    assert CLAIMS.registry.allowed(refusal, {"market"})
    assert not CLAIMS.registry.allowed(refusal, {"coop"})
