"""`rose-cart orders list|show|refund` and `rose-cart inbox log`, on both engines."""

from __future__ import annotations

import asyncio
import json

from sqlalchemy import select, update

from cart.admin.audit import AuditEntry
from cart.orders.models import ShopOrder
from cart.orders.orders import record
from inbox.models import InboxActivity
from store import Database, upgrade, utcnow
from tests.cart.checkout_support import SHOPPER, checkout, fill, stock_shop


def _seed(database_url: str) -> str:
    async def go() -> str:
        db = Database(database_url)
        try:
            await upgrade(db.engine)
            shop = await stock_shop(db)
            await fill(db, SHOPPER, (shop["loaf"], 2))
            placed = await checkout(db)
            now = utcnow()
            async with db.transaction() as session:
                await session.execute(
                    update(ShopOrder)
                    .where(ShopOrder.id == placed.order.id)
                    .values(status="paid", transaction_id="txn-9", paid_at=now)
                )
                await record(session, placed.order.id, "paid", "Payment received", now)
                session.add(
                    InboxActivity(
                        ap_id="https://market.example/a/1",
                        ap_actor_id="https://market.example/actor",
                        activity_type="Update",
                        object_type="Product",
                        body="{}",
                        status="failed",
                        last_error="no price",
                    )
                )
            return placed.order.number
        finally:
            await db.dispose()

    return asyncio.run(go())


def test_orders_list_show_and_refund(cli, database_url: str) -> None:  # type: ignore[no-untyped-def]
    number = _seed(database_url)
    listed = json.loads(cli("orders", "list", "--status", "paid", "--json"))
    assert [o["number"] for o in listed] == [number]
    assert "no orders match" in cli("orders", "list", "--status", "refunded")
    shown = json.loads(cli("orders", "show", number, "--json"))
    assert shown["status"] == "paid" and shown["items"][0]["quantity"] == 2
    assert [h["status"] for h in shown["history"]][-1] == "paid"
    one = ("orders", "refund", number, "--line", "1=1", "--reason", "One was burnt", "--yes")
    assert f"refund of {number} requested (£3.50)" in cli(*one)
    shown = json.loads(cli("orders", "show", number, "--json"))
    assert shown["status"] == "paid", "a partial refund leaves the order paid"
    assert shown["history"][-1]["note"] == "Refund of £3.50 requested: One was burnt"
    assert "at most 1 can still be refunded" in cli(*one[:4], "1=2", "--yes", code=1)
    assert "The order has no line 2." in cli(*one[:4], "2=1", "--yes", code=1)
    assert "write LINE=QUANTITY" in cli(*one[:4], "1=\u00b2", "--yes", code=2)
    for amount in ("1e30", "NaN", "-1", "\u00b2"):
        assert "write an amount like 12.50" in cli(*one[:3], "--amount", amount, "--yes", code=2)
    assert "more decimals than GBP" in cli(*one[:3], "--amount", "1.005", "--yes", code=1)
    assert "at most £3.50" in cli("orders", "refund", number, "--amount", "4", "--yes", code=1)
    assert f"refund of {number} requested (£3.50)" in cli("orders", "refund", number, "--yes")
    shown = json.loads(cli("orders", "show", number, "--json"))
    assert shown["status"] == "paid", "what is left goes as one more partial refund"
    assert shown["history"][-1]["note"] == "Refund of £3.50 requested: Refunded by the shop."
    assert "already been refunded in full" in cli("orders", "refund", number, "--yes", code=1)
    assert "no order RA-999999" in cli("orders", "show", "RA-999999", code=1)
    # Each refund asked from the command line is in the operators' audit log, as /admin's are.
    entries = asyncio.run(_audit(database_url))
    assert [e.action for e in entries] == ["refund", "refund"]
    assert all(e.operator.endswith("(command line)") and e.outcome == "done" for e in entries)
    assert entries[0].target == f"rose-cart orders refund {number}"


async def _audit(database_url: str) -> list[AuditEntry]:
    db = Database(database_url)
    try:
        async with db.transaction() as session:
            rows = await session.execute(select(AuditEntry).order_by(AuditEntry.id))
            return list(rows.scalars())
    finally:
        await db.dispose()


def test_inbox_log(cli, database_url: str) -> None:  # type: ignore[no-untyped-def]
    _seed(database_url)
    logged = json.loads(cli("inbox", "log", "--status", "failed", "--json"))
    assert [(a["type"], a["last_error"]) for a in logged] == [("Update", "no price")]
    assert "nothing in the inbox log" in cli("inbox", "log", "--status", "ignored")
    assert "Update(Product)" in cli("inbox", "log")
