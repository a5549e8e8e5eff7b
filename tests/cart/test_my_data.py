"""A shopper's own data: the JSON export, and deleting the account with orders kept
anonymised."""

from __future__ import annotations

import json

from sqlalchemy import select
from starlette.applications import Starlette

from cart.basket.carts import CartOwner
from cart.identity.accounts import Account
from cart.orders.contact import Contact
from cart.orders.models import ShopOrder
from tests.cart.checkout_support import checkout, fill, stock_shop
from tests.cart.web_support import csrf_token, login, new_client, register

PASSWORD = "correct horse battery"  # noqa: S105


async def test_a_shopper_exports_their_data_then_deletes_the_account(web_app: Starlette) -> None:
    db = web_app.state.db
    async with new_client(web_app) as ada:
        await register(ada, "ada@example.org", PASSWORD)
        await login(ada, "ada@example.org", PASSWORD)
        async with db.transaction() as session:
            account_id = (await session.execute(select(Account.id))).scalar_one()
        owner = CartOwner.account(account_id)
        shop = await stock_shop(db)
        await fill(db, owner, (shop["loaf"], 1))
        await checkout(db, owner, contact=Contact("Ada Lovelace", "ada@example.org"))

        assert '<a href="/account">Your account</a>' in (await ada.get("/")).text
        exported = await ada.get("/account/export")
        assert "attachment" in exported.headers["content-disposition"]
        data = json.loads(exported.text)
        assert data["account"]["email"] == "ada@example.org"
        (order,) = data["orders"]
        assert order["number"] == "RA-000001" and order["contact"]["name"] == "Ada Lovelace"
        assert order["items"][0]["name"] == "Sourdough loaf"

        page = await ada.get("/account")
        wrong = await ada.post(
            "/account/delete", data={"csrf_token": csrf_token(page.text), "password": "nope"}
        )
        assert wrong.status_code == 403 and "Go back and try again" in wrong.text
        done = await ada.post(
            "/account/delete", data={"csrf_token": csrf_token(page.text), "password": PASSWORD}
        )
        assert done.status_code == 303
        assert "Logged in as" not in (await ada.get("/")).text

    async with db.transaction() as session:
        assert (await session.execute(select(Account))).first() is None
        (kept,) = (await session.execute(select(ShopOrder))).scalars().all()
    assert kept.number == "RA-000001" and kept.total_amount  # kept for the accounts
    assert (kept.account_id, kept.contact_name, kept.contact_email) == (None, None, None)
    async with new_client(web_app) as again:
        refused = await login(again, "ada@example.org", PASSWORD)
        assert refused.status_code != 303
