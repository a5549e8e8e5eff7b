"""Helpers for the shopper web tests: clients, CSRF tokens, logging in, seeding.

The fixtures (`web_app`, `web_client`) are in tests/support/web_fixtures.py.
"""

from __future__ import annotations

import re
from typing import cast

import httpx
from argon2 import PasswordHasher
from sqlalchemy import select
from starlette.applications import Starlette

from cart.identity.sessions import COOKIE_NAME
from cart.web import cart_routes
from mail.models import OutgoingMail
from tests.support.factories import offer

EMBEDDING_ORIGIN = "https://market.example"
# The lowest argon2 cost: these tests exercise the flows, not the hash's strength.
CHEAP_PASSWORDS = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
REGISTRATION_LINK = re.compile(r"https?://[^/\s]+(/register/finish/[A-Za-z0-9_\-]+)")


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
    client: httpx.AsyncClient, email: str = "ada@example.org"
) -> httpx.Response:
    """The registration form alone (an address): the same answer whether or not the
    address is known, a mail either way."""
    return await post_form(client, "/register", {"email": email}, csrf_from="/register")


def app_of(client: httpx.AsyncClient) -> Starlette:
    """The app an in-process client talks to (new_client's ASGI transport)."""
    transport = client._transport  # noqa: SLF001 - httpx keeps the transport private
    assert isinstance(transport, httpx.ASGITransport)
    return cast(Starlette, transport.app)


async def registration_link(app: Starlette, email: str) -> str | None:
    """The path of the newest registration link mailed to `email` (the queued mail's
    text, as the sender will send it), or None when none was mailed."""
    async with app.state.db.transaction() as session:
        text = await session.scalar(
            select(OutgoingMail.text_body)
            .where(OutgoingMail.kind == "account.register", OutgoingMail.to_address == email)
            .order_by(OutgoingMail.id.desc())
            .limit(1)
        )
    found = REGISTRATION_LINK.search(text or "")
    return found.group(1) if found else None


async def finish_registration(
    client: httpx.AsyncClient,
    path: str,
    password: str = "correct horse battery",  # noqa: S107
) -> httpx.Response:
    """Open a mailed link and choose the password: the form's answer."""
    form = await client.get(path)
    assert form.status_code == 200, form.text
    return await client.post(path, data={"csrf_token": csrf_token(form.text), "password": password})


async def register(
    client: httpx.AsyncClient,
    email: str = "ada@example.org",
    password: str = "correct horse battery",  # noqa: S107
    *,
    app: Starlette | None = None,
) -> httpx.Response:
    """What a new shopper does: give the address, open the mailed link, choose the
    password (which logs them in); the last answer. `app`: the shop, for a client that
    talks to it over a socket."""
    registered = await submit_registration(client, email)
    assert registered.status_code == 303, registered.text
    path = await registration_link(app or app_of(client), email.strip())
    assert path is not None, f"no registration link was mailed to {email}"
    return await finish_registration(client, path, password)


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
