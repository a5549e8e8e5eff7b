"""The account holder's own settings: the e-mail address confirmed by a signed, expiring link,
the password changed while logged in (asking the current one), and "Your orders" on login."""

from __future__ import annotations

import time
from datetime import timedelta

import httpx
from itsdangerous import TimestampSigner, URLSafeTimedSerializer
from sqlalchemy import select
from starlette.applications import Starlette

from cart.identity.accounts import Account
from cart.identity.accounts import register as register_account
from cart.web.password_links import VERIFY_SALT, tag_of
from mail.models import OutgoingMail
from store import Database
from tests.cart.web_support import csrf_token, login, new_client, post_form, register
from tests.conftest import TEST_SECRET

ADA = "ada@example.org"
OLD, NEW = "correct horse battery", "a new and longer passphrase"


async def _mails(db: Database, kind: str) -> list[OutgoingMail]:
    async with db.transaction() as session:
        query = select(OutgoingMail).where(OutgoingMail.kind == kind).order_by(OutgoingMail.id)
        return list((await session.execute(query)).scalars())


async def _account(db: Database) -> Account:
    async with db.transaction() as session:
        account = (await session.execute(select(Account))).scalar_one()
        session.expunge(account)
        return account


async def _verification_path(app: Starlette) -> str:
    from cart.web.mails import verify_email_mail

    config = app.state.cart_web
    (mail,) = await _mails(app.state.db, "account.verify_email")
    rendered = await app.state.db.read(verify_email_mail, mail.account_id, config.verifications)
    assert rendered is not None
    assert "Please confirm" in rendered.subject
    link = next(w for w in rendered.text.split() if w.startswith("https://cart.test/"))
    assert link in rendered.html
    return link.removeprefix("https://cart.test")


async def _unconfirmed(app: Starlette, client: httpx.AsyncClient) -> None:
    """Ada, with an account whose address nobody confirmed (made by `rose-cart operators
    add`, or registered before registration went e-mail first), logged in."""
    await register_account(app.state.db, app.state.cart_web.passwords, ADA, OLD)
    landed = await login(client, ADA, OLD)
    assert landed.headers["location"] == "/orders"  # the login lands on the shopper's orders


async def test_registering_confirms_the_address_and_mails_no_other_link(
    web_app: Starlette, web_client: httpx.AsyncClient
) -> None:
    landed = await register(web_client, ADA, OLD)  # through the link mailed to it
    assert landed.headers["location"] == "/orders"
    account_page = (await web_client.get("/account")).text
    assert "confirmed</strong> on" in account_page and "Send the link again" not in account_page
    assert await _mails(web_app.state.db, "account.verify_email") == []


async def test_the_login_page_says_who_is_logged_in_already(
    web_app: Starlette, web_client: httpx.AsyncClient
) -> None:
    assert 'id="logged-in"' not in (await web_client.get("/login")).text
    await register(web_client, ADA, OLD)
    page = (await web_client.get("/login")).text
    assert f"You are logged in as {ADA}. Logging in here changes to another account." in page


async def test_an_unconfirmed_address_is_confirmed_by_a_mailed_link_without_a_cookie(
    web_app: Starlette, web_client: httpx.AsyncClient
) -> None:
    await _unconfirmed(web_app, web_client)
    assert "Your orders" in (await web_client.get("/orders")).text
    account_page = (await web_client.get("/account")).text
    assert "not confirmed yet" in account_page and "Send the link again" in account_page
    sent = await post_form(web_client, "/account/verify", {}, csrf_from="/account")
    assert sent.status_code == 303 and sent.headers["location"] == "/account"
    path = await _verification_path(web_app)

    async with new_client(web_app) as phone:  # opened from the mail on another device
        opened = await phone.get(path)
        assert opened.status_code == 200 and "is confirmed" in opened.text
        assert (await phone.get(path)).status_code == 200  # opening it twice is harmless
        altered = path[:-2] + ("AA" if not path.endswith("AA") else "BB")
        assert (await phone.get(altered)).status_code == 400
    account_page = (await web_client.get("/account")).text
    assert "confirmed</strong> on" in account_page and "Send the link again" not in account_page
    assert (await _account(web_app.state.db)).email_verified_at is not None


class _LongAgo(TimestampSigner):
    def get_timestamp(self) -> int:
        return int(time.time()) - 4 * 86_400


async def test_an_expired_link_confirms_nothing_and_another_can_be_sent_a_few_times(
    web_app: Starlette, web_client: httpx.AsyncClient
) -> None:
    await _unconfirmed(web_app, web_client)
    account = await _account(web_app.state.db)
    stale = URLSafeTimedSerializer(TEST_SECRET, salt=VERIFY_SALT, signer=_LongAgo).dumps(
        [account.id, tag_of(ADA)]
    )
    answer = await web_client.get(f"/account/verify/{stale}")
    assert answer.status_code == 400 and "does not work" in answer.text
    assert (await _account(web_app.state.db)).email_verified_at is None

    for _ in range(5):
        sent = await post_form(web_client, "/account/verify", {}, csrf_from="/account")
        assert sent.status_code == 303 and sent.headers["location"] == "/account"
    assert len(await _mails(web_app.state.db, "account.verify_email")) == 3  # quota: 3/h
    assert "several links" in (await web_client.get("/account")).text


async def test_changing_the_password_asks_the_current_one_and_says_why_not(
    web_app: Starlette, web_client: httpx.AsyncClient
) -> None:
    await register(web_client, ADA, OLD)
    before = (await _account(web_app.state.db)).password_hash

    async def change(current: str, new: str) -> httpx.Response:
        page = (await web_client.get("/account")).text
        form = {"csrf_token": csrf_token(page), "current_password": current, "new_password": new}
        return await web_client.post("/account/password", data=form)

    wrong = await change("not my password", NEW)
    assert wrong.status_code == 400
    assert "current password is not right" in wrong.text and 'name="new_password"' in wrong.text
    short = await change(OLD, "short")
    assert short.status_code == 400 and "new password was not taken" in short.text
    assert (await _account(web_app.state.db)).password_hash == before
    assert await _mails(web_app.state.db, "account.password_changed") == []

    done = await change(OLD, NEW)
    assert done.status_code == 303 and done.headers["location"] == "/account"
    assert "Your password is changed." in (await web_client.get("/account")).text
    (notice,) = await _mails(web_app.state.db, "account.password_changed")
    assert notice.to_address == ADA
    async with new_client(web_app) as elsewhere:
        assert (await login(elsewhere, ADA, OLD)).status_code == 400
        assert (await login(elsewhere, ADA, NEW)).status_code == 303


async def test_a_stranger_cannot_change_a_password_or_ask_for_links(
    web_app: Starlette, web_client: httpx.AsyncClient
) -> None:
    page = (await web_client.get("/login")).text
    form = {"csrf_token": csrf_token(page), "current_password": OLD, "new_password": NEW}
    answer = await web_client.post("/account/password", data=form)
    assert answer.status_code == 303 and answer.headers["location"].startswith("/login")
    sent = await post_form(web_client, "/account/verify", {})
    assert sent.headers["location"].startswith("/login")
    assert await _mails(web_app.state.db, "account.verify_email") == []


def test_links_of_one_kind_do_not_open_the_other() -> None:
    from cart.web.password_links import EmailVerifications, PasswordResets

    resets, verifications = (
        PasswordResets("s" * 40, "https://cart.test"),
        EmailVerifications("s" * 40, "https://cart.test"),
    )
    token = resets.url_for(1, "hash").rsplit("/", 1)[1]
    assert resets.account_id_from(token) == (1, tag_of("hash"))
    assert verifications.account_id_from(token) is None
    assert verifications.max_age == int(timedelta(days=3).total_seconds())
