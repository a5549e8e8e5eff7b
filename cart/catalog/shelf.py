"""The catalogue a screenful at a time: front page, one page's shelf, and search by name.

Rendering the whole mirror cost ~84 µs of CPU an item on the event loop (10,000 items:
878 ms and 7.8 MB per GET /), so every read here is bounded whatever the catalogue's
size. Each item carries its page's key and its place on that page's shelf (`sort_key`:
products by name, then entries by start), indexed together, so a shelf is read from
the index in order and paged by keyset (`after` an item's key), never by OFFSET. The
front page shows the first few items of each page (one statement: a UNION of indexed
LIMIT reads), with "more" leading to that page's shelf. Search matches the start of
any word of a name through `catalog_words`, a range of its primary key. Each is a
unit of work (GET / runs one in a read unit); the items come through Core
(cart.catalog.rows), never as ORM objects.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, bindparam, exists, literal, select, tuple_, union_all
from sqlalchemy.orm import Session

from cart.catalog.indexing import words_of
from cart.catalog.mirror import CatalogSection, ItemView, PageView, page_view
from cart.catalog.models import CatalogPage, CatalogWord
from cart.catalog.rows import ITEMS, fields_of, item_select, item_view_of

FRONT_PAGES = 20  # pages (shops, venues) on the front page; more behind a link
FRONT_ITEMS = 6  # items of each page on the front page
SHELF_ITEMS = 48  # items on one screen of a page's shelf or of search results
MAX_QUERY_WORDS = 5
_LAST = "\U0010ffff"  # sorts after every character: the end of a prefix range


@dataclass(frozen=True)
class Shelf:
    """One screen of a shelf or of search results; `after` continues it (None: the end)."""

    page: PageView | None
    items: tuple[ItemView, ...]
    after: str | None


@dataclass(frozen=True)
class Front:
    sections: tuple[CatalogSection, ...]
    more: dict[str | None, bool]  # by page key ("" for items without a page): more to see
    next_from: int | None  # the front page's next set of pages


def _visible() -> Any:
    return ITEMS.c.withdrawn_at.is_(None)


@functools.cache
def _front_items(shelves: int) -> Select[Any]:
    """The first few items of `shelves` shelves, in one statement (a UNION of indexed
    LIMIT reads), built once per number of shelves and bound to `:shelf0`, `:shelf1`..."""
    reads = [
        select(ITEMS.c.ap_id)
        .where(ITEMS.c.page_key == bindparam(f"shelf{n}"), _visible())
        .order_by(ITEMS.c.sort_key, ITEMS.c.key)
        .limit(FRONT_ITEMS + 1)
        .subquery()
        .select()
        for n in range(shelves)
    ]
    wanted = select(union_all(*reads).subquery().c.ap_id)
    return (
        item_select(ITEMS.c.page_key.label("shelf"))
        .where(ITEMS.c.ap_id.in_(wanted))
        .order_by(ITEMS.c.sort_key, ITEMS.c.key)
    )


_FRONT_PAGES = (
    select(CatalogPage)
    .where(exists().where(ITEMS.c.page_key == CatalogPage.key, _visible()))
    .order_by(CatalogPage.name.is_(None), CatalogPage.name, CatalogPage.key)
    .offset(bindparam("start"))
    .limit(FRONT_PAGES + 1)
)


def front(session: Session, now: datetime, *, start: int = 0) -> Front:
    """A unit: a few items of each of the first pages (by name), and whether each has more."""
    pages = session.execute(_FRONT_PAGES, {"start": start}).scalars().all()
    shown = list(pages[:FRONT_PAGES])
    keys = [p.key for p in shown]
    if len(pages) <= FRONT_PAGES:
        keys.append("")  # "other offers" comes last, after every page
    if not keys:
        return Front((), {}, None)
    shelves = {f"shelf{n}": key for n, key in enumerate(keys)}
    rows = session.execute(_front_items(len(keys)), shelves)
    by_page: dict[str, list[ItemView]] = {}
    for row in fields_of(rows):
        by_page.setdefault(row.shelf, []).append(item_view_of(row, now))
    sections, more = [], {}
    for key, page in [*((p.key, p) for p in shown), ("", None)]:
        items = by_page.get(key, [])
        if not items:
            continue
        view = page_view(page) if page is not None else None
        sections.append(CatalogSection(page=view, items=tuple(items[:FRONT_ITEMS])))
        more[key or None] = len(items) > FRONT_ITEMS
    next_from = start + FRONT_PAGES if len(pages) > FRONT_PAGES else None
    return Front(tuple(sections), more, next_from)


def shelf(
    session: Session, now: datetime, page_key: str, *, after: str | None = None
) -> Shelf | None:
    """A unit: one screen of a page's items in shelf order ("" for items without a page)."""
    page = None
    if page_key:
        page = session.execute(select(CatalogPage).where(CatalogPage.key == page_key)).scalar()
        if page is None:
            return None
    query = item_select().where(ITEMS.c.page_key == page_key, _visible())
    if after is not None:
        last = session.execute(
            select(ITEMS.c.sort_key).where(ITEMS.c.key == after, ITEMS.c.page_key == page_key)
        ).scalar()
        if last is not None:
            query = query.where(
                tuple_(ITEMS.c.sort_key, ITEMS.c.key) > tuple_(literal(last), after)
            )
    rows = session.execute(
        query.order_by(ITEMS.c.sort_key, ITEMS.c.key).limit(SHELF_ITEMS + 1)
    ).all()
    views = tuple(item_view_of(row, now) for row in rows[:SHELF_ITEMS])
    following = rows[SHELF_ITEMS - 1].key if len(rows) > SHELF_ITEMS else None
    return Shelf(page_view(page) if page is not None else None, views, following)


def search(session: Session, now: datetime, query: str, *, after: str | None = None) -> Shelf:
    """A unit: items whose name has a word starting with each word of `query`.

    The longest query word is read as a range of the word index; the others must start
    some word of the same item. Results come in item-key order (stable, so a screen's
    last key continues it); a very common prefix costs in proportion to its matches.
    """
    wanted = words_of(query)[:MAX_QUERY_WORDS]
    if not wanted:
        return Shelf(None, (), None)
    lead = max(wanted, key=len)
    match = (
        select(CatalogWord.item_key)
        .distinct()
        .where(CatalogWord.word >= lead, CatalogWord.word < lead + _LAST)
    )
    for other in wanted:
        if other != lead:
            also = CatalogWord.__table__.alias()
            match = match.where(
                exists().where(
                    also.c.item_key == CatalogWord.item_key,
                    also.c.word >= other,
                    also.c.word < other + _LAST,
                )
            )
    if after is not None:
        match = match.where(CatalogWord.item_key > after)
    keys = list(
        session.execute(match.order_by(CatalogWord.item_key).limit(SHELF_ITEMS + 1)).scalars()
    )
    rows = session.execute(
        item_select().where(ITEMS.c.key.in_(keys[:SHELF_ITEMS]), _visible()).order_by(ITEMS.c.key)
    )
    views = tuple(item_view_of(row, now) for row in rows)
    following = keys[SHELF_ITEMS - 1] if len(keys) > SHELF_ITEMS else None
    return Shelf(None, views, following)
