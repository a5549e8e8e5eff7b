"""The orders migration (0009) creates exactly the tables the order models declare."""

from __future__ import annotations

from typing import Any

from sqlalchemy import MetaData
from sqlalchemy.ext.asyncio import AsyncConnection

from cart.orders.models import CheckoutToken, OrderStatusChange, ShopOrder, ShopOrderItem
from store import Database

OURS = {"orders", "order_items", "order_status_history", "checkout_tokens"}


def _touches_ours(difference: Any) -> bool:
    flat = difference if isinstance(difference, tuple) else difference[0]
    for part in flat:
        table = getattr(part, "table", None)
        if table is not None and getattr(table, "name", None) in OURS:
            return True
        if getattr(part, "name", None) in OURS or (isinstance(part, str) and part in OURS):
            return True
    return False


async def test_the_order_tables_match_their_models(db: Database) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    ours = MetaData()
    for model in (ShopOrder, ShopOrderItem, OrderStatusChange, CheckoutToken):
        model.__table__.to_metadata(ours)  # type: ignore[attr-defined]

    def diff(connection: AsyncConnection) -> list[object]:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return compare_metadata(context, ours)

    async with db.engine.connect() as connection:
        differences = await connection.run_sync(diff)
    assert [d for d in differences if _touches_ours(d)] == []
