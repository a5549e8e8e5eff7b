"""Where an item sits on its page's shelf and which words find it: kept on every write.

The catalogue is read a screenful at a time (cart/catalog/shelf.py), from indexes that
these columns feed: `page_key` and `sort_key` order a page's shelf (products by name,
then entries soonest first), and `catalog_words` holds each word of a name for the
search box. Both are derived from the item, so a write that changes the item keeps
them in step, in the same transaction.
"""

from __future__ import annotations

import re
from datetime import datetime

from sqlalchemy import delete, insert
from sqlalchemy.orm import Session

from cart.catalog.models import ENTRY, CatalogItem, CatalogWord, key_for

MAX_WORDS = 32  # words of one name that are searchable
WORD_LENGTH = 48
SORT_LENGTH = 160
_WORD = re.compile(r"\w+")


def words_of(text: str) -> list[str]:
    """The distinct words of `text`, case-folded and cut to the indexed length."""
    return list(dict.fromkeys(w[:WORD_LENGTH] for w in _WORD.findall(text.casefold())))


def sort_key_of(kind: str, name: str, start: datetime | None) -> str:
    """The shelf position: products first by name, then entries soonest first."""
    folded = " ".join(name.casefold().split())
    if kind != ENTRY:
        return ("0" + folded)[:SORT_LENGTH]
    when = start.strftime("%Y-%m-%dT%H:%M:%S") if start is not None else "9999"
    return ("1" + when + " " + folded)[:SORT_LENGTH]


def place(row: CatalogItem) -> None:
    """Set the item's page key and shelf position from what it now says."""
    row.page_key = key_for(row.page_ap_id) if row.page_ap_id else ""
    row.sort_key = sort_key_of(row.kind, row.name, row.start_time)


def index_words(session: Session, row: CatalogItem) -> None:
    """Replace the item's search words (after the item row exists: they refer to it)."""
    session.execute(delete(CatalogWord).where(CatalogWord.item_key == row.key))
    words = words_of(row.name)[:MAX_WORDS]
    if words:
        session.execute(insert(CatalogWord), [{"word": w, "item_key": row.key} for w in words])
