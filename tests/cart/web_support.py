"""Helpers for the shopper web tests: clients, CSRF tokens, logging in, seeding.

The fixtures (`web_app`, `web_client`) are in tests/support/web_fixtures.py.
"""

from __future__ import annotations

import re

import httpx
from argon2 import PasswordHasher
from starlette.applications import Starlette

from cart.identity.sessions import COOKIE_NAME
from cart.web import cart_routes
from tests.support.factories import offer

EMBEDDING_ORIGIN = "https://market.example"
# The lowest argon2 cost: these tests exercise the flows, not the hash's strength.
CHEAP_PASSWORDS = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def with_cart_routes(app: Starlette) -> Starlette:
    """Append the cart's routes unless the app factory already mounts them."""
    if not any(getattr(route, "path", None) == "/cart" for route in app.router.routes):
        app.router.routes.extend(cart_routes())
    return app


def new_client(app: Starlette, base_url: str = "https://cart.test") -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url=base_url, headers={"Accept": "text/html"}
    )


def csrf_token(html: str) -> str:
    match = _CSRF.search(html)
    assert match, "the page has no form with a CSRF token"
    return match.group(1)


def session_cookie(client: httpx.AsyncClient) -> str | None:
    return client.cookies.get(COOKIE_NAME)


async def token(client: httpx.AsyncClient, path: str = "/login") -> str:
    response = await client.get(path)
    return csrf_token(response.text)


async def post_form(
    client: httpx.AsyncClient, path: str, data: dict[str, str], *, csrf_from: str = "/login"
) -> httpx.Response:
    fields = {"csrf_token": await token(client, csrf_from), **data}
    return await client.post(path, data=fields)


async def add(
    client: httpx.AsyncClient, item_id: str, quantity: int = 1, next_path: str = "/"
) -> httpx.Response:
    return await post_form(
        client, "/cart/lines", {"item": item_id, "quantity": str(quantity), "next": next_path}
    )


async def seed(app: Starlette, *objects: object) -> list[str]:
    ids = []
    async with app.state.db.transaction() as session:
        for obj in objects:
            ids.append(await offer(session, obj))  # type: ignore[arg-type]
    return ids


def line_ids(html: str) -> list[int]:
    return [int(n) for n in re.findall(r'id="line-(\d+)"', html)]


async def submit_registration(
    client: httpx.AsyncClient,
    email: str = "ada@example.org",
    password: str = "correct horse battery",  # noqa: S107
) -> httpx.Response:
    """The registration form alone: the same answer whether or not the address is known."""
    return await post_form(
        client, "/register", {"email": email, "password": password}, csrf_from="/register"
    )


async def register(
    client: httpx.AsyncClient,
    email: str = "ada@example.org",
    password: str = "correct horse battery",  # noqa: S107
) -> httpx.Response:
    """What a new shopper does: register, then log in (registering alone logs nobody in,
    so that it answers the same for a known address); the login's answer."""
    registered = await submit_registration(client, email, password)
    assert registered.status_code == 303, registered.text
    return await login(client, email, password)


async def login(
    client: httpx.AsyncClient,
    email: str = "ada@example.org",
    password: str = "correct horse battery",  # noqa: S107
) -> httpx.Response:
    return await post_form(
        client, "/login", {"email": email, "password": password}, csrf_from="/login"
    )


async def logout(client: httpx.AsyncClient) -> httpx.Response:
    return await post_form(client, "/logout", {})
