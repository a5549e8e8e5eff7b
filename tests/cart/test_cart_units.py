"""The cart pages converted to units of work hold no connection a stuck request needs.

With the app's pool of one (tests/support/settings.py), an unconverted request that holds
the async session across a slow wait, and a write unit that has not finished, another
shopper's cart still answers on SQLite: its read unit runs on a WAL reader. A converted
handler cannot reach a session at all: the AST check below fails the suite if one does.
"""

from __future__ import annotations

import ast
import asyncio
import threading
from pathlib import Path

import httpx
import pytest
from sqlalchemy.orm import Session
from starlette.applications import Starlette

from tests.cart.web_support import add, csrf_token, seed
from tests.support.factories import product

WEB = Path(__file__).resolve().parents[2] / "cart" / "web"


async def test_a_cart_answers_while_a_request_and_a_write_unit_hold_their_connections(
    web_app: Starlette, web_client: httpx.AsyncClient
) -> None:
    db = web_app.state.db
    if not db.is_sqlite:
        pytest.skip("on PostgreSQL a unit takes a pooled connection like the request does")
    (loaf,) = await seed(web_app, product(1, name="Loaf", price="3.50"))
    await add(web_client, loaf, 2)
    holding, release = asyncio.Event(), asyncio.Event()

    async def stuck_request() -> None:  # an unconverted handler awaiting a slow peer
        async with db.transaction():
            holding.set()
            await release.wait()

    started, finish = threading.Event(), threading.Event()

    def stuck_unit(session: Session) -> None:
        started.set()
        assert finish.wait(30)

    request = asyncio.ensure_future(stuck_request())
    unit = asyncio.ensure_future(db.write(stuck_unit))
    try:
        await asyncio.wait_for(holding.wait(), 30)
        assert await asyncio.to_thread(started.wait, 30)
        cart = await asyncio.wait_for(web_client.get("/cart"), 30)
        assert cart.status_code == 200
        assert "Loaf" in cart.text and '<span class="badge" data-cart-count>2</span>' in cart.text
        page = await asyncio.wait_for(web_client.get("/cart/page/unknown-shop"), 30)
        assert page.status_code == 404
        # An add waits for the write unit ahead of it, not for the held request.
        fields = {"csrf_token": csrf_token(cart.text), "item": loaf, "quantity": "1"}
        adding = asyncio.ensure_future(web_client.post("/cart/lines", data=fields))
        finish.set()
        assert (await asyncio.wait_for(adding, 30)).status_code == 303
        cart = await web_client.get("/cart")
        assert '<span class="badge" data-cart-count>3</span>' in cart.text
    finally:
        release.set()
        finish.set()
        await request
        await unit


def _unit_handlers(tree: ast.Module) -> list[ast.AsyncFunctionDef]:
    return [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.AsyncFunctionDef)
        and any(
            isinstance(d, ast.Name) and d.id in ("unit_page", "unit_form")
            for d in node.decorator_list
        )
    ]


def test_a_converted_handler_never_touches_a_session() -> None:
    converted = []
    for source in sorted(WEB.glob("*.py")):
        for handler in _unit_handlers(ast.parse(source.read_text(), str(source))):
            converted.append(handler.name)
            names = {n.attr for n in ast.walk(handler) if isinstance(n, ast.Attribute)}
            names |= {n.id for n in ast.walk(handler) if isinstance(n, ast.Name)}
            assert "session" not in names, f"{source.name}: {handler.name} uses a session"
            assert "AsyncSession" not in names, f"{source.name}: {handler.name}"
    assert {"cart_overview", "page_cart", "add_to_cart", "remove"} <= set(converted)
