"""The cart's migration (0006) creates exactly the tables its models declare, on both engines."""

from __future__ import annotations

from typing import Any

from sqlalchemy import MetaData
from sqlalchemy.ext.asyncio import AsyncConnection

import cart.basket.carts
import cart.catalog.models
from store import Database

OURS = {"catalog_pages", "catalog_items", "cart_lines"}


def _touches_ours(difference: Any) -> bool:
    # compare_metadata yields tuples, or lists of tuples for column modifications.
    flat = difference if isinstance(difference, tuple) else difference[0]
    for part in flat:
        table = getattr(part, "table", None)
        name = getattr(part, "name", None)
        if table is not None and getattr(table, "name", None) in OURS:
            return True
        if name in OURS or (isinstance(part, str) and part in OURS):
            return True
    return False


async def test_the_cart_tables_match_their_models(db: Database) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    ours = MetaData()
    for table in (
        cart.catalog.models.CatalogPage.__table__,
        cart.catalog.models.CatalogItem.__table__,
        cart.basket.carts.CartLine.__table__,
    ):
        table.to_metadata(ours)  # type: ignore[attr-defined]

    def diff(connection: AsyncConnection) -> list[object]:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return compare_metadata(context, ours)

    async with db.engine.connect() as connection:
        differences = await connection.run_sync(diff)
    assert [d for d in differences if _touches_ours(d)] == []
