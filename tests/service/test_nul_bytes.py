"""A NUL character from the network is a 400 that changes nothing, on both engines.

PostgreSQL's text cannot hold a NUL, so wherever one reached a query (a product key in
the path, a search, a form field) the answer was 500 there and fine on SQLite. The edge
refuses a URL with one (service/middleware.py), and every form is read by
`cart.web.visit.read_form`, which refuses one in any field. Over real HTTP.
"""

from __future__ import annotations

import httpx
import pytest

from tests.cart.web_support import csrf_token
from tests.support.inbox_peers import Served
from tests.support.state import snapshot


@pytest.fixture
def over_the_network() -> bool:
    return True


@pytest.mark.parametrize(
    "url",
    ["/products/a%00b", "/entries/a%00b", "/cart/page/a%00b", "/?q=a%00b", "/?shop=%00"],
)
async def test_a_url_with_a_nul_is_a_400(
    served: Served, browser: httpx.AsyncClient, url: str
) -> None:
    before = await snapshot(served.db)
    answer = await browser.get(url)
    assert answer.status_code == 400, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    assert "NUL" in answer.json()["detail"]
    assert await snapshot(served.db) == before


@pytest.mark.parametrize(
    ("path", "fields"),
    [
        ("/login", {"email": "ada\x00@example.org", "password": "a guess at it"}),
        ("/register", {"email": "ada@example.org\x00"}),
        ("/cart/lines", {"item": "https://market.example/products/\x00", "quantity": "1"}),
    ],
)
async def test_a_form_field_with_a_nul_is_a_400(
    served: Served, browser: httpx.AsyncClient, path: str, fields: dict[str, str]
) -> None:
    token = csrf_token((await browser.get("/login")).text)
    before = await snapshot(served.db)
    answer = await browser.post(path, data={"csrf_token": token, **fields})
    assert answer.status_code == 400, answer.text
    assert "NUL" in answer.text
    assert await snapshot(served.db) == before
