"""A new password logs out everyone who knew the old one: a change from the account page
ends the account's other sessions (the changer stays logged in), a reset through the
mailed link ends them all. Two browsers on one account, over HTTP on loopback."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy import select
from starlette.applications import Starlette

from cart.identity.accounts import Passwords
from cart.web import configure_web
from cart.web.mails import password_reset_mail
from mail.models import OutgoingMail
from service.app import create_app
from service.settings import Settings
from tests.cart.web_support import CHEAP_PASSWORDS, csrf_token, login, register, with_cart_routes
from tests.support.loopback import free_socket, origin_of, serving

ADA = "ada@example.org"
BOB = "bob@example.org"
OLD, NEW = "correct horse battery", "a new and longer passphrase"


@pytest.fixture
async def shop(settings: Settings) -> AsyncIterator[tuple[Starlette, str]]:
    """The shop served by uvicorn on a loopback port that it knows as its URL (plain HTTP,
    so its cookies are not marked Secure); the app and its origin."""
    sock = free_socket()
    app = with_cart_routes(create_app(settings.model_copy(update={"base_url": origin_of(sock)})))
    async with app.router.lifespan_context(app):
        configure_web(app.state, passwords=Passwords(CHEAP_PASSWORDS))
        async with serving(app, sock, lifespan="off") as served:
            yield app, served


async def _reset_path(app: Starlette) -> str:
    """The path of the link in the reset mail the shop queued for Ada."""
    async with app.state.db.transaction() as session:
        query = select(OutgoingMail).where(OutgoingMail.kind == "account.password_reset")
        (mail,) = (await session.execute(query)).scalars().all()
    config = app.state.cart_web
    rendered = await app.state.db.read(password_reset_mail, mail.account_id, config.resets)
    assert rendered is not None
    base: str = config.resets.base_url
    text: str = rendered.text
    link = next(w for w in text.split() if w.startswith(base))
    return link.removeprefix(base)


def browser(origin: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=origin, headers={"Accept": "text/html"})


async def logged_in_as(client: httpx.AsyncClient, email: str = ADA) -> bool:
    """What the shopper sees: the account page (as `email`), or being sent to log in."""
    answer = await client.get("/account")
    if answer.status_code == 303:
        assert answer.headers["location"].startswith("/login")
        return False
    assert answer.status_code == 200 and email in answer.text
    return True


async def test_changing_the_password_logs_out_the_other_browser_not_this_one(
    shop: tuple[Starlette, str],
) -> None:
    app, origin = shop
    async with browser(origin) as mine, browser(origin) as theirs, browser(origin) as bobs:
        assert (await register(mine, ADA, OLD, app=app)).status_code == 303
        assert (await login(theirs, ADA, OLD)).status_code == 303
        assert (await register(bobs, BOB, OLD, app=app)).status_code == 303
        assert await logged_in_as(mine) and await logged_in_as(theirs)
        assert await logged_in_as(bobs, BOB)

        page = (await mine.get("/account")).text
        form = {"csrf_token": csrf_token(page), "current_password": OLD, "new_password": NEW}
        changed = await mine.post("/account/password", data=form)
        assert changed.status_code == 303 and changed.headers["location"] == "/account"

        shown = await mine.get("/account")
        assert shown.status_code == 200
        assert "You are logged out on other devices." in shown.text
        assert await logged_in_as(mine)
        assert not await logged_in_as(theirs)
        assert await logged_in_as(bobs, BOB)  # another account's session is not Ada's to end
        assert (await login(theirs, ADA, OLD)).status_code == 400
        assert (await login(theirs, ADA, NEW)).status_code == 303
        assert await logged_in_as(theirs) and await logged_in_as(mine)


async def test_a_reset_through_the_mailed_link_logs_out_every_browser(
    shop: tuple[Starlette, str],
) -> None:
    app, origin = shop
    async with browser(origin) as mine, browser(origin) as theirs, browser(origin) as reset:
        assert (await register(mine, ADA, OLD, app=app)).status_code == 303
        assert (await login(theirs, ADA, OLD)).status_code == 303
        assert await logged_in_as(mine) and await logged_in_as(theirs)

        page = (await reset.get("/password/forgot")).text
        form = {"csrf_token": csrf_token(page), "email": ADA}
        assert (await reset.post("/password/forgot", data=form)).status_code == 303
        path = await _reset_path(app)
        page = (await reset.get(path)).text
        done = await reset.post(path, data={"csrf_token": csrf_token(page), "password": NEW})
        assert done.status_code == 303 and done.headers["location"] == "/login"
        assert "logged out everywhere" in (await reset.get("/login")).text

        assert not await logged_in_as(mine)
        assert not await logged_in_as(theirs)
        assert (await login(mine, ADA, NEW)).status_code == 303
        assert await logged_in_as(mine) and not await logged_in_as(theirs)
