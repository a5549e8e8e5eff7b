"""A large catalogue mirror for tests and benches, written in bulk like the mirror writes it.

Ten thousand items through `upsert_object` one by one take minutes on a shared machine;
this writes the rows and their search words with two multi-row INSERTs per page, using
the mirror's own `place` and `words_of`, so shelves and search see what they would.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import insert

from cart.catalog.indexing import MAX_WORDS, place, words_of
from cart.catalog.models import PRODUCT, CatalogItem, CatalogPage, CatalogWord, key_for
from store import Database

MARKET = "https://stalls.example/actor"
NOUNS = ("loaf", "jam", "honey", "cheese", "apples", "cider", "soap", "candle", "mug", "scarf")
ADJECTIVES = ("small", "large", "organic", "smoked", "wild", "golden", "spiced", "rustic")


def item_name(number: int) -> str:
    """A varied, predictable name: item 1234 is "Rustic honey no 1234"."""
    return f"{ADJECTIVES[number % 8].title()} {NOUNS[(number // 8) % 10]} no {number}"


async def fill_catalogue(
    db: Database, items: int, *, pages: int = 10, first: int = 0
) -> list[CatalogPage]:
    """Items `first` .. `items - 1`, spread over `pages` shops (created when `first` is 0)."""
    now = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
    shops = [
        CatalogPage(
            ap_id=f"https://stalls.example/pages/{n}",
            key=key_for(f"https://stalls.example/pages/{n}"),
            name=f"Stall {n:03d}",
            url=None,
            updated_at=now,
        )
        for n in range(pages)
    ]
    rows: list[dict[str, Any]] = []
    words: list[dict[str, str]] = []
    for number in range(first, items):
        ap_id = f"https://stalls.example/products/{number}"
        row = CatalogItem(
            ap_id=ap_id,
            key=key_for(ap_id),
            kind=PRODUCT,
            ap_actor_id=MARKET,
            page_ap_id=shops[number % pages].ap_id,
            name=item_name(number),
            start_time=None,
        )
        place(row)
        rows.append(
            {
                "ap_id": ap_id,
                "key": row.key,
                "kind": PRODUCT,
                "ap_actor_id": MARKET,
                "page_ap_id": row.page_ap_id,
                "name": row.name,
                "price_amount": Decimal("2.50"),
                "price_currency": "GBP",
                "available": True,
                "updated_at": now,
                "received_at": now,
                "page_key": row.page_key,
                "sort_key": row.sort_key,
            }
        )
        words += [{"word": w, "item_key": row.key} for w in words_of(row.name)[:MAX_WORDS]]
    async with db.transaction() as session:
        if first == 0:
            session.add_all(shops)
            await session.flush()
        for start in range(0, len(rows), 1000):
            await session.execute(insert(CatalogItem), rows[start : start + 1000])
        for start in range(0, len(words), 2000):
            await session.execute(insert(CatalogWord), words[start : start + 2000])
    return shops
