"""The admin tests' world: an operator, the configured peers, and seeded federation state.

Shared by tests/cart/test_admin_*.py and the browser test; the fixtures built on it
(`admin_app`, `anonymous`, `operator`) are in tests/support/web_fixtures.py.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update
from starlette.applications import Starlette

from actor.schemes import PeerSignatureScheme
from cart.orders.models import ShopOrder
from cart.orders.orders import record
from inbox.models import InboxActivity
from outbox.models import DeliveryHost, Follower, OutboxActivity, OutboxDelivery
from store import utcnow
from tests.cart.checkout_support import SHOPPER, checkout, fill, stock_shop

OPERATOR = "op@coop.example"
PASSWORD = "operator password 1"  # noqa: S105
MARKET = "https://market.example/actor"
CALENDAR = "https://calendar.example/actor"
COOP = "https://coop.example/actor"
DEAD_INBOX = "https://gone.example/inbox"


async def seed_federation(app: Starlette) -> dict[str, int]:
    """A pending follow request, an accepted follower, a dead delivery, inbox rows, a host."""
    now = utcnow()
    async with app.state.db.transaction() as session:
        session.add_all(
            [
                Follower(
                    ap_actor_id=COOP,
                    follow_ap_id=COOP + "#follow-1",
                    state="pending",
                    inbox="https://coop.example/inbox",
                ),
                Follower(
                    ap_actor_id="https://old.example/actor",
                    follow_ap_id="https://old.example/f",
                    state="accepted",
                    inbox="https://old.example/inbox",
                ),
                InboxActivity(
                    ap_id=MARKET + "/activities/1",
                    ap_actor_id=MARKET,
                    activity_type="Update",
                    object_type="Product",
                    body="{}",
                    status="failed",
                    last_error="handler raised KeyError 'price'",
                ),
                InboxActivity(
                    ap_id=MARKET + "/activities/2",
                    ap_actor_id=MARKET,
                    activity_type="Like",
                    body="{}",
                    status="ignored",
                ),
                DeliveryHost(
                    host="https://gone.example",
                    consecutive_failures=7,
                    unavailable_since=now - timedelta(hours=2),
                ),
                PeerSignatureScheme(origin="https://market.example", scheme="rfc9421"),
            ]
        )
        activity = OutboxActivity(
            ap_id="https://cart.test/activities/a1", activity_type="Create", body="{}"
        )
        session.add(activity)
        await session.flush()
        dead = OutboxDelivery(
            activity_id=activity.id,
            inbox=DEAD_INBOX,
            host="https://gone.example",
            status="dead",
            attempts=9,
            last_status=503,
            last_error="Service Unavailable",
            finished_at=now,
        )
        session.add(dead)
        await session.flush()
        return {"dead": dead.id, "activity": activity.id}


async def seed_paid_order(app: Starlette) -> str:
    db = app.state.db
    shop = await stock_shop(db)
    await fill(db, SHOPPER, (shop["loaf"], 2))
    placed = await checkout(db)
    now = utcnow()
    async with db.transaction() as session:
        await session.execute(
            update(ShopOrder)
            .where(ShopOrder.id == placed.order.id)
            .values(status="paid", transaction_id="txn-123", paid_at=now, created_at=now)
        )
        await record(session, placed.order.id, "paid", "Payment received", now)
    return placed.order.number
