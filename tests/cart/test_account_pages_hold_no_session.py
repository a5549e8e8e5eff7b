"""The account pages, login and order cancel hold no request session (issues 14 and 18).

With the app's pool of one and its short wait, a page that still held the request's
async session would wait for the connection another request holds here
(tests/support/held_pool.py) and answer 500. These pages read and write in units of
work instead, so each one is served, and does what it says, while that connection stays
taken. No timing is asserted: each request has only a generous ceiling, so a broken
build fails, not hangs.
"""

from __future__ import annotations

import asyncio
import json
import re

import httpx
from sqlalchemy import select

from cart.basket.carts import CartLine, CartOwner
from cart.identity.accounts import Account
from cart.orders.contact import Contact
from cart.orders.models import ShopOrder
from mail.models import OutgoingMail
from service.mailing import build_mail_sender
from store import Database
from tests.cart.checkout_support import checkout, fill, stock_shop
from tests.cart.shop_support import Shop
from tests.cart.web_support import (
    add,
    csrf_token,
    finish_registration,
    login,
    logout,
    new_client,
    register,
    registration_link,
    submit_registration,
)
from tests.mail.support import kept_text
from tests.support.held_pool import CEILING, pool_taken

ADA, OLD, NEW = "ada@example.org", "correct horse battery", "a new and longer passphrase"
RESET_LINK = re.compile(r"https://cart\.test(/password/reset/[A-Za-z0-9_.\-]+)")


async def get(client: httpx.AsyncClient, path: str) -> httpx.Response:
    return await asyncio.wait_for(client.get(path), CEILING)


async def post(
    client: httpx.AsyncClient, path: str, data: dict[str, str], *, csrf_from: str
) -> httpx.Response:
    form = await get(client, csrf_from)
    fields = {"csrf_token": csrf_token(form.text), **data}
    return await asyncio.wait_for(client.post(path, data=fields), CEILING)


async def _account(db: Database) -> Account:
    async with db.transaction() as session:
        account = (await session.execute(select(Account))).scalar_one()
        session.expunge(account)
        return account


async def _mails(db: Database, kind: str) -> list[OutgoingMail]:
    async with db.transaction() as session:
        query = select(OutgoingMail).where(OutgoingMail.kind == kind).order_by(OutgoingMail.id)
        return list((await session.execute(query)).scalars())


async def test_the_account_page_export_and_password_change_while_the_pool_is_taken(
    shop: Shop,
) -> None:
    db = shop.app.state.db
    assert (await register(shop.client, ADA, OLD)).status_code == 303
    before = (await _account(db)).password_hash
    async with pool_taken(db):
        page = await get(shop.client, "/account")
        assert page.status_code == 200 and ADA in page.text
        exported = await get(shop.client, "/account/export")
        assert exported.status_code == 200
        assert json.loads(exported.text)["account"]["email"] == ADA
        wrong = await post(
            shop.client,
            "/account/password",
            {"current_password": "not my password", "new_password": NEW},
            csrf_from="/account",
        )
        assert wrong.status_code == 400 and "current password is not right" in wrong.text
        changed = await post(
            shop.client,
            "/account/password",
            {"current_password": OLD, "new_password": NEW},
            csrf_from="/account",
        )
        assert changed.status_code == 303 and changed.headers["location"] == "/account"
        after = await get(shop.client, "/account")
        assert "Your password is changed." in after.text and ADA in after.text  # logged in
        asked = await post(shop.client, "/account/verify", {}, csrf_from="/account")
        assert asked.status_code == 303  # verified already (registered by link): no mail
    assert (await _account(db)).password_hash != before
    assert len(await _mails(db, "account.password_changed")) == 1
    assert await _mails(db, "account.verify_email") == []


async def test_a_forgotten_password_is_asked_for_and_reset_while_the_pool_is_taken(
    shop: Shop,
) -> None:
    db = shop.app.state.db
    async with new_client(shop.app) as elsewhere:
        assert (await register(elsewhere, ADA, OLD)).status_code == 303
    before = (await _account(db)).password_hash
    async with pool_taken(db):
        asked = await post(
            shop.client, "/password/forgot", {"email": ADA}, csrf_from="/password/forgot"
        )
        assert asked.status_code == 303 and asked.headers["location"] == "/login"
    assert await build_mail_sender(shop.app.state.settings, db).step() >= 1  # renders the link
    (mail,) = await _mails(db, "account.password_reset")
    found = RESET_LINK.search(kept_text(shop.app.state.settings.data_dir, mail.id))
    assert found is not None
    link = found.group(1)
    async with pool_taken(db):
        assert (await get(shop.client, link)).status_code == 200
        done = await post(shop.client, link, {"password": NEW}, csrf_from=link)
        assert done.status_code == 303 and done.headers["location"] == "/login"
        assert (await get(shop.client, link)).status_code == 400  # used: it opens no more
    assert (await _account(db)).password_hash != before


async def test_an_unpaid_order_is_cancelled_while_the_pool_is_taken(shop: Shop) -> None:
    db = shop.app.state.db
    assert (await register(shop.client, ADA, OLD)).status_code == 303
    owner = CartOwner.account((await _account(db)).id)
    stock = await stock_shop(db)
    await fill(db, owner, (stock["loaf"], 2))
    placed = await checkout(db, owner, contact=Contact("Ada Lovelace", ADA))
    number = placed.order.number
    async with pool_taken(db):
        cancelled = await post(
            shop.client, f"/orders/{number}/cancel", {}, csrf_from=f"/orders/{number}"
        )
        assert cancelled.status_code == 303 and cancelled.headers["location"] == (
            f"/orders/{number}"
        )
        page = await get(shop.client, cancelled.headers["location"])
        assert "is cancelled and its items are back in your cart" in page.text
        again = await post(
            shop.client, f"/orders/{number}/cancel", {}, csrf_from=f"/orders/{number}"
        )
        assert again.status_code == 303
        assert "cannot be cancelled" in (await get(shop.client, again.headers["location"])).text
    async with db.transaction() as session:
        (order,) = (await session.execute(select(ShopOrder))).scalars().all()
    assert order.status == "cancelled"


async def test_the_account_is_deleted_while_the_pool_is_taken(shop: Shop) -> None:
    db = shop.app.state.db
    assert (await register(shop.client, ADA, OLD)).status_code == 303
    async with pool_taken(db):
        wrong = await post(
            shop.client, "/account/delete", {"password": "not my password"}, csrf_from="/account"
        )
        assert wrong.status_code == 403 and "Go back and try again" in wrong.text
        deleted = await post(
            shop.client, "/account/delete", {"password": OLD}, csrf_from="/account"
        )
        assert deleted.status_code == 303 and deleted.headers["location"] == "/"
        assert "Logged in as" not in (await get(shop.client, "/")).text
    async with db.transaction() as session:
        assert (await session.execute(select(Account))).first() is None


async def test_registering_logging_in_with_a_cart_and_out_while_the_pool_is_taken(
    shop: Shop,
) -> None:
    db = shop.app.state.db
    stock = await stock_shop(db)
    assert (await submit_registration(shop.client, ADA)).status_code == 303
    link = await registration_link(shop.app, ADA)
    assert link is not None
    async with pool_taken(db):
        welcomed = await asyncio.wait_for(finish_registration(shop.client, link, OLD), CEILING)
        assert welcomed.status_code == 303
        assert "Welcome! Your account is created." in (await get(shop.client, "/")).text
        out = await asyncio.wait_for(logout(shop.client), CEILING)
        assert out.status_code == 303
        assert "You have logged out." in (await get(shop.client, "/")).text
        # Anonymous again: two loaves in the cart, then a wrong password and the right one.
        assert (await asyncio.wait_for(add(shop.client, stock["loaf"], 2), CEILING)).is_redirect
        wrong = await asyncio.wait_for(login(shop.client, ADA, "not my password"), CEILING)
        assert wrong.status_code == 400
        back = await asyncio.wait_for(login(shop.client, ADA, OLD), CEILING)
        assert back.status_code == 303 and back.headers["location"] == "/cart"
        cart = await get(shop.client, "/cart")
        assert f"You are logged in as {ADA}." in cart.text
        assert "The 2 items from your cart are now in your account" in cart.text
    account = await _account(db)
    async with db.transaction() as session:
        owned = (await session.execute(select(CartLine))).scalars().all()
    assert [(line.account_id, line.cart_id, line.quantity) for line in owned] == [
        (account.id, None, 2)
    ]
