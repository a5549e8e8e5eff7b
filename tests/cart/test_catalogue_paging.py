"""A catalogue of 10,000 items: every screen shows a bounded number, and paging and search work.

What a shopper notices: the front page shows a few items of each stall with a "More
from" link; a stall's shelf shows one screenful with a "Next items" link that leads
to the items after it, in order, until the end; the search box finds an item by any
word of its name, even one deep in the catalogue. No timing is asserted (bench/catalogue
measures cost); the bound on items and bytes per page is what keeps it cheap.
"""

from __future__ import annotations

import html
import re

import httpx
from starlette.applications import Starlette

from cart.catalog.shelf import FRONT_ITEMS, FRONT_PAGES, SHELF_ITEMS
from tests.support.catalogue import fill_catalogue, item_name

ITEMS = 10_000
STALLS = 25
# A card: its heading names the item, as a link to the item's own page.
_ITEM = re.compile(r'<li class="item"[^>]*>\s*<h3>(?:<a [^>]*>)?([^<]+)(?:</a>)?</h3>')
_NEXT = re.compile(r'<a href="([^"]+)" rel="next">')
_MORE = re.compile(r'<a href="([^"]+)">More from ([^<]+)</a>')


def names(page: str) -> list[str]:
    return [html.unescape(n) for n in _ITEM.findall(page)]


def next_link(page: str) -> str | None:
    found = _NEXT.search(page)
    return html.unescape(found.group(1)) if found else None


async def test_a_catalogue_of_ten_thousand_items_is_shown_a_screenful_at_a_time(
    web_app: Starlette, web_client: httpx.AsyncClient
) -> None:
    await fill_catalogue(web_app.state.db, ITEMS, pages=STALLS)

    front = await web_client.get("/")
    assert front.status_code == 200
    shown = names(front.text)
    assert len(shown) == FRONT_PAGES * FRONT_ITEMS  # 20 stalls of 25, six items each
    assert len(front.content) < 150_000
    assert 'role="search"' in front.text and 'name="q"' in front.text
    more = {html.unescape(name): html.unescape(href) for href, name in _MORE.findall(front.text)}
    assert "Stall 000" in more and len(more) == FRONT_PAGES
    following = next_link(front.text)
    assert following is not None  # the five stalls beyond the first twenty
    rest = await web_client.get(following)
    assert "Stall 024" in rest.text and next_link(rest.text) is None

    # One stall's shelf: 400 items, a screenful at a time, in order, none twice.
    screen = await web_client.get(more["Stall 000"])
    seen: list[str] = []
    screens = 0
    while True:
        assert screen.status_code == 200
        page_names = names(screen.text)
        assert 0 < len(page_names) <= SHELF_ITEMS
        seen += page_names
        screens += 1
        link = next_link(screen.text)
        if link is None:
            break
        screen = await web_client.get(link)
    expected = sorted((item_name(n) for n in range(0, ITEMS, STALLS)), key=str.casefold)
    assert seen == expected
    assert screens == -(-len(expected) // SHELF_ITEMS)


async def test_the_search_box_finds_an_item_by_any_word_of_its_name_without_javascript(
    web_app: Starlette, web_client: httpx.AsyncClient
) -> None:
    await fill_catalogue(web_app.state.db, ITEMS, pages=STALLS)
    wanted = item_name(9_876)  # "Wild apples no 9876"-like: deep in the catalogue
    number_only = await web_client.get("/", params={"q": "9876"})
    assert names(number_only.text) == [wanted]
    assert "Search results for “9876”" in number_only.text

    # Two words, each the start of a word of the name: "sma jam" finds small jams only.
    found = await web_client.get("/", params={"q": "SMA  Jam"})
    first = names(found.text)
    assert len(first) == SHELF_ITEMS
    assert all(n.startswith("Small jam no ") for n in first)
    link = next_link(found.text)
    assert link is not None
    second = names((await web_client.get(link)).text)
    assert second and not set(first) & set(second)
    assert all(n.startswith("Small jam no ") for n in second)

    nothing = await web_client.get("/", params={"q": "zebra"})
    assert nothing.status_code == 200 and names(nothing.text) == []
    assert "Nothing in the catalogue has a name with those words" in nothing.text
