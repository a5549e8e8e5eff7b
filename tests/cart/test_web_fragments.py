"""Fragments other co-op sites embed: cart badge and account link, cached and CORS-aware."""

from __future__ import annotations

from dataclasses import dataclass

import httpx
from starlette.applications import Starlette

from cart.identity.sessions import COOKIE_NAME
from cart.web.config import build_config
from tests.cart.web_support import (
    EMBEDDING_ORIGIN,
    add,
    logout,
    new_client,
    register,
    seed,
    session_cookie,
)
from tests.support.factories import product


async def test_the_cart_badge_counts_items_and_links_to_the_cart(
    web_app: Starlette, web_client: httpx.AsyncClient
) -> None:
    empty = await web_client.get("/fragments/cart-mini")
    assert empty.status_code == 200 and "data-cart-count>0<" in empty.text
    assert "set-cookie" not in empty.headers  # embedding pages do not start sessions
    (loaf,) = await seed(web_app, product(1))
    await add(web_client, loaf, 3)
    badge = await web_client.get("/fragments/cart-mini")
    assert "data-cart-count>3<" in badge.text
    assert 'href="https://cart.test/cart"' in badge.text
    assert badge.text.lstrip().startswith("<a")  # a snippet, not a page


async def test_the_badge_is_private_revalidated_and_answers_304_while_unchanged(
    web_app: Starlette, web_client: httpx.AsyncClient
) -> None:
    (loaf,) = await seed(web_app, product(1))
    await add(web_client, loaf)
    first = await web_client.get("/fragments/cart-mini")
    assert "private" in first.headers["cache-control"]
    assert {v.strip() for v in first.headers["vary"].split(",")} >= {"Cookie", "Origin"}
    etag = first.headers["etag"]
    same = await web_client.get("/fragments/cart-mini", headers={"If-None-Match": etag})
    assert same.status_code == 304 and same.content == b"" and same.headers["etag"] == etag
    await add(web_client, loaf)
    changed = await web_client.get("/fragments/cart-mini", headers={"If-None-Match": etag})
    assert changed.status_code == 200 and "data-cart-count>2<" in changed.text
    assert changed.headers["etag"] != etag


async def test_cors_admits_configured_peers_with_credentials_and_nobody_else(
    web_client: httpx.AsyncClient,
) -> None:
    for path in ("/fragments/cart-mini", "/fragments/account-nav-item"):
        allowed = await web_client.get(path, headers={"Origin": EMBEDDING_ORIGIN})
        assert allowed.headers["access-control-allow-origin"] == EMBEDDING_ORIGIN
        assert allowed.headers["access-control-allow-credentials"] == "true"
        other = await web_client.get(path, headers={"Origin": "https://evil.example"})
        assert "access-control-allow-origin" not in other.headers
        preflight = await web_client.options(
            path, headers={"Origin": EMBEDDING_ORIGIN, "Access-Control-Request-Method": "GET"}
        )
        assert preflight.status_code == 204
        assert preflight.headers["access-control-allow-origin"] == EMBEDDING_ORIGIN
        assert "GET" in preflight.headers["access-control-allow-methods"]


async def test_the_account_item_links_to_login_then_to_the_shoppers_orders(
    web_client: httpx.AsyncClient,
) -> None:
    anonymous = await web_client.get("/fragments/account-nav-item")
    assert 'href="https://cart.test/login"' in anonymous.text
    await register(web_client)
    known = await web_client.get("/fragments/account-nav-item")
    assert 'href="https://cart.test/orders"' in known.text and "Your orders" in known.text
    assert known.headers["etag"] != anonymous.headers["etag"]


async def test_a_logged_out_sessions_old_cookie_shows_nobody_and_an_empty_cart(
    web_app: Starlette, web_client: httpx.AsyncClient
) -> None:
    await register(web_client)
    (loaf,) = await seed(web_app, product(1))
    await add(web_client, loaf, 2)
    old = session_cookie(web_client)
    assert old is not None
    before = await web_client.get("/fragments/cart-mini")
    assert "data-cart-count>2<" in before.text
    await logout(web_client)
    async with new_client(web_app) as copied:  # a copy of the cookie from before
        copied.cookies.set(COOKIE_NAME, old)
        badge = await copied.get("/fragments/cart-mini")
        assert "data-cart-count>0<" in badge.text
        account = await copied.get("/fragments/account-nav-item")
        assert 'href="https://cart.test/login"' in account.text


def test_embedding_origins_come_from_the_configured_peers() -> None:
    @dataclass
    class Peer:
        role: str
        actor_id: str

    @dataclass
    class FakeSettings:
        base_url: str
        peers: tuple[Peer, ...]

        def secret(self) -> str:
            return "s" * 40

    config = build_config(
        FakeSettings(
            "http://127.0.0.1:8000",
            (
                Peer("market", "https://Market.example/actor"),
                Peer("calendar", "http://cal.example:8080/a"),
            ),
        )
    )
    assert config.embedding_origins == {"https://market.example", "http://cal.example:8080"}
    assert config.secure is False
