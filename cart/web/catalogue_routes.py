"""GET /: the catalogue a screenful at a time, with search, whatever its size.

Three views of one address, so every one works with plain links and a GET form:
the front page (a few items of each shop or venue, "more" per shop, `from` for the
next set of shops), one shop's shelf (`shop`, paged with `after`), and search
results (`q`, paged with `after`). Cursors a shopper may have edited are checked
cheaply and, when malformed, ignored: the first screen is shown instead.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlencode

from cart.basket.totals import NO_PAGE_KEY
from cart.catalog.shelf import FRONT_PAGES, front, search, shelf
from cart.exceptions import NotFound
from cart.web.shop import with_badge
from cart.web.visit import Page, ShopperVisit, unit_page
from vocab.numbers import parse_natural

MAX_QUERY = 100
MAX_FROM = 100_000
_KEY = re.compile(r"[0-9a-f]{32}")


def _key(value: str | None) -> str | None:
    return value if value is not None and _KEY.fullmatch(value) else None


def _link(**params: str) -> str:
    return "/?" + urlencode(params)


@unit_page
async def catalogue(visit: ShopperVisit) -> Page:
    params = visit.request.query_params
    now, after = visit.now, _key(params.get("after"))
    here = visit.request.url.path + (f"?{visit.request.url.query}" if params else "")
    # Every view's template variables, so the one template can test any of them.
    context: dict[str, Any] = dict.fromkeys(("query", "page", "shop_link", "next_link"))
    context.update(items=(), sections=(), more={}, first=False)
    query = " ".join((params.get("q") or "").split())[:MAX_QUERY]
    if query:
        found, count = await visit.read(with_badge, visit.shopper, search, now, query, after=after)
        context |= {
            "view": "search",
            "query": query,
            "items": found.items,
            "next_link": _link(q=query, after=found.after) if found.after else None,
            "next_path": here,
        }
        return Page("catalogue.html", context, title=f"Search: {query}", item_count=count)
    shop = params.get("shop")
    if shop is not None:
        page_key = "" if shop == NO_PAGE_KEY else _key(shop)
        screen, count = (
            (None, 0)
            if page_key is None
            else await visit.read(with_badge, visit.shopper, shelf, now, page_key, after=after)
        )
        if screen is None:
            raise NotFound("We do not know that shop or venue.")
        context |= {
            "view": "shelf",
            "page": screen.page,
            "items": screen.items,
            "first": after is not None,
            "shop_link": _link(shop=shop),
            "next_link": _link(shop=shop, after=screen.after) if screen.after else None,
            "next_path": here,
        }
        title = screen.page.name if screen.page else "Other offers"
        return Page("catalogue.html", context, title=title, item_count=count)
    start = parse_natural(params.get("from", "0")) or 0
    start = start if start <= MAX_FROM else 0
    start -= start % FRONT_PAGES
    shown, count = await visit.read(with_badge, visit.shopper, front, now, start=start)
    context |= {
        "view": "front",
        "sections": shown.sections,
        "more": {key: _link(shop=key or NO_PAGE_KEY) for key, more in shown.more.items() if more},
        "next_link": _link(**{"from": str(shown.next_from)}) if shown.next_from else None,
        "first": start > 0,
        "next_path": here,
    }
    return Page("catalogue.html", context, title="Catalogue", item_count=count)
