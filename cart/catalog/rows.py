"""The mirror read through SQLAlchemy Core, for the pages shoppers wait on.

The ORM spent most of a cart page's database time building `CatalogItem` and
`CatalogPage` objects that were turned into views at once (docs/design.md, "Units of
work"). These reads select the columns a view needs, items outer-joined to their pages,
and build the views from the rows: `item_select` is the statement (other tables can be
joined in front, as the cart's lines are), `item_view_of` the view of one of its rows.
A view reads some thirty columns by name, so the rows are read through `fields_of` first:
a SQLAlchemy `Row` answers each attribute through `__getattr__` (~0.3 us a read, about
10 of the 14 us an item view took), a plain namespace at a tenth of that.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from types import SimpleNamespace
from typing import Any, cast

from sqlalchemy import Result, Select, Table, bindparam, select
from sqlalchemy.orm import Session

from cart.catalog.mirror import ItemView, PageView, item_view_on
from cart.catalog.models import CatalogItem, CatalogPage
from store import direct

ITEMS = cast(Table, CatalogItem.__table__)
PAGES = cast(Table, CatalogPage.__table__)
# Every column an ItemRow has, under its own name; the page's under `page_*` labels.
ITEM_COLUMNS = tuple(
    ITEMS.c[name]
    for name in (
        "ap_id",
        "key",
        "kind",
        "ap_actor_id",
        "name",
        "summary",
        "url",
        "price_amount",
        "price_currency",
        "available",
        "stock",
        "capacity",
        "start_time",
        "end_time",
        "location",
        "entry_state",
        "time_zone",
        "withdrawn_at",
        "image_digest",
        "image_alt",
    )
)
PAGE_COLUMNS = (
    PAGES.c.ap_id.label("page_iri"),
    PAGES.c.key.label("page_handle"),
    PAGES.c.name.label("page_name"),
    PAGES.c.url.label("page_url"),
)


def item_select(*extra: Any, joined: Any = ITEMS) -> Select[Any]:
    """SELECT the columns of an item's view (and `extra`) FROM `joined` (the items, or a
    join that has them) LEFT JOIN their pages."""
    source = joined.outerjoin(PAGES, PAGES.c.ap_id == ITEMS.c.page_ap_id)
    return select(*ITEM_COLUMNS, *PAGE_COLUMNS, *extra).select_from(source)


def fields_of(result: Result[Any]) -> Iterator[Any]:
    """Each row of `result` as a namespace of its columns by name (what the views read)."""
    names = tuple(result.keys())
    for row in result:
        yield SimpleNamespace(**dict(zip(names, row, strict=True)))


def page_of(row: Any) -> PageView | None:
    """The page columns of an `item_select` row as a view; None for an item without one."""
    if row.page_iri is None:
        return None
    name = row.page_name or row.page_url or row.page_iri
    return PageView(ap_id=row.page_iri, key=row.page_handle, name=name, url=row.page_url)


def item_view_of(row: Any, now: datetime) -> ItemView:
    """The view of one `item_select` row at `now`."""
    return item_view_on(row, page_of(row), now)


def item_by_key_sync(session: Session, key: str, now: datetime) -> ItemView | None:
    """A unit: the item a page address names (withdrawn ones too), or None."""
    found = direct.fields(session, _BY_KEY, {"key": key})
    return item_view_of(found[0], now) if found else None


_BY_KEY = item_select().where(ITEMS.c.key == bindparam("key"))
