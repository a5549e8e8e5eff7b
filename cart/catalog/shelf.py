"""The catalogue a screenful at a time: front page, one page's shelf, and search by name.

Rendering the whole mirror cost ~84 µs of CPU an item on the event loop (10,000 items:
878 ms and 7.8 MB per GET /), so every read here is bounded whatever the catalogue's
size. Each item carries its page's key and its place on that page's shelf (`sort_key`:
products by name, then entries by start), indexed together, so a shelf is read from
the index in order and paged by keyset (`after` an item's key), never by OFFSET. The
front page shows the first few items of each page (one statement: a UNION of indexed
LIMIT reads), with "more" leading to that page's shelf. Search matches the start of
any word of a name through `catalog_words`, a range of its primary key.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import exists, literal, select, tuple_, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from cart.catalog.indexing import words_of
from cart.catalog.mirror import CatalogSection, ItemView, PageView, item_view, page_view
from cart.catalog.models import CatalogItem, CatalogPage, CatalogWord

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
    return CatalogItem.withdrawn_at.is_(None)


def _views(rows: Any, pages: dict[str, CatalogPage], now: datetime) -> list[ItemView]:
    return [item_view(item, pages.get(item.page_ap_id or ""), now) for item in rows]


async def front(session: AsyncSession, now: datetime, *, start: int = 0) -> Front:
    """A few items of each of the first pages (by name), and whether each has more."""
    pages = (
        (
            await session.execute(
                select(CatalogPage)
                .where(exists().where(CatalogItem.page_key == CatalogPage.key, _visible()))
                .order_by(CatalogPage.name.is_(None), CatalogPage.name, CatalogPage.key)
                .offset(start)
                .limit(FRONT_PAGES + 1)
            )
        )
        .scalars()
        .all()
    )
    shown = list(pages[:FRONT_PAGES])
    keys = [p.key for p in shown]
    if len(pages) <= FRONT_PAGES:
        keys.append("")  # "other offers" comes last, after every page
    if not keys:
        return Front((), {}, None)
    reads = [
        select(CatalogItem.ap_id)
        .where(CatalogItem.page_key == key, _visible())
        .order_by(CatalogItem.sort_key, CatalogItem.key)
        .limit(FRONT_ITEMS + 1)
        .subquery()
        .select()
        for key in keys
    ]
    wanted = select(union_all(*reads).subquery().c.ap_id)
    rows = (
        (await session.execute(select(CatalogItem).where(CatalogItem.ap_id.in_(wanted))))
        .scalars()
        .all()
    )
    by_page: dict[str, list[CatalogItem]] = {}
    for row in sorted(rows, key=lambda r: (r.sort_key, r.key)):
        by_page.setdefault(row.page_key, []).append(row)
    ap_ids = {p.ap_id: p for p in shown}
    sections, more = [], {}
    for key, page in [*((p.key, p) for p in shown), ("", None)]:
        items = by_page.get(key, [])
        if not items:
            continue
        view = page_view(page) if page is not None else None
        views = _views(items[:FRONT_ITEMS], ap_ids, now)
        sections.append(CatalogSection(page=view, items=tuple(views)))
        more[key or None] = len(items) > FRONT_ITEMS
    next_from = start + FRONT_PAGES if len(pages) > FRONT_PAGES else None
    return Front(tuple(sections), more, next_from)


async def shelf(
    session: AsyncSession, now: datetime, page_key: str, *, after: str | None = None
) -> Shelf | None:
    """One screen of a page's items in shelf order ("" for items without a page)."""
    page = None
    if page_key:
        page = (
            await session.execute(select(CatalogPage).where(CatalogPage.key == page_key))
        ).scalar()
        if page is None:
            return None
    query = select(CatalogItem).where(CatalogItem.page_key == page_key, _visible())
    if after is not None:
        last = (
            await session.execute(
                select(CatalogItem.sort_key).where(
                    CatalogItem.key == after, CatalogItem.page_key == page_key
                )
            )
        ).scalar()
        if last is not None:
            query = query.where(
                tuple_(CatalogItem.sort_key, CatalogItem.key) > tuple_(literal(last), after)
            )
    rows = (
        (
            await session.execute(
                query.order_by(CatalogItem.sort_key, CatalogItem.key).limit(SHELF_ITEMS + 1)
            )
        )
        .scalars()
        .all()
    )
    pages = {page.ap_id: page} if page is not None else {}
    views = _views(rows[:SHELF_ITEMS], pages, now)
    following = rows[SHELF_ITEMS - 1].key if len(rows) > SHELF_ITEMS else None
    return Shelf(page_view(page) if page is not None else None, tuple(views), following)


async def search(
    session: AsyncSession, now: datetime, query: str, *, after: str | None = None
) -> Shelf:
    """Items whose name has a word starting with each word of `query`.

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
        (
            await session.execute(match.order_by(CatalogWord.item_key).limit(SHELF_ITEMS + 1))
        ).scalars()
    )
    rows = (
        await session.execute(
            select(CatalogItem, CatalogPage)
            .outerjoin(CatalogPage, CatalogPage.ap_id == CatalogItem.page_ap_id)
            .where(CatalogItem.key.in_(keys[:SHELF_ITEMS]), _visible())
            .order_by(CatalogItem.key)
        )
    ).all()
    views = tuple(item_view(item, page, now) for item, page in rows)
    following = keys[SHELF_ITEMS - 1] if len(keys) > SHELF_ITEMS else None
    return Shelf(None, views, following)
