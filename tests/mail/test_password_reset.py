"""A forgotten password: the same answer for any address, one mail for a known one, and
a link that works once, for an hour, and lets the new password log in."""

from __future__ import annotations

import re
import time

import httpx
import pytest
from itsdangerous import TimestampSigner, URLSafeTimedSerializer
from sqlalchemy import select
from starlette.applications import Starlette

from cart.identity.accounts import Account
from cart.web.password_links import RESET_SALT, tag_of
from mail.models import SCRUBBED, OutgoingMail
from service.mailing import build_mail_sender
from tests.cart.web_support import csrf_token, login, new_client, register
from tests.conftest import TEST_SECRET
from tests.mail.support import kept_text

LINK = re.compile(r"https://cart\.test(/password/reset/[A-Za-z0-9_.\-]+)")


async def _ask(client: httpx.AsyncClient, email: str) -> httpx.Response:
    form = await client.get("/password/forgot")
    return await client.post(
        "/password/forgot", data={"csrf_token": csrf_token(form.text), "email": email}
    )


async def _reset(client: httpx.AsyncClient, path: str, password: str) -> httpx.Response:
    form = await client.get(path)
    return await client.post(path, data={"csrf_token": csrf_token(form.text), "password": password})


class _LongAgo(TimestampSigner):
    def get_timestamp(self) -> int:
        return int(time.time()) - 2 * 3600


async def test_a_forgotten_password_is_changed_through_a_link_that_works_once(
    web_app: Starlette,
) -> None:
    async with new_client(web_app) as ada:
        assert (await register(ada, "ada@example.org", "first password 123")).status_code == 303
    async with new_client(web_app) as visitor:
        known = await _ask(visitor, "ada@example.org")
        unknown = await _ask(visitor, "nobody@example.org")
        assert known.status_code == unknown.status_code == 303
        assert (await visitor.get(known.headers["location"])).text.count("If an account") == 1
    async with web_app.state.db.transaction() as session:
        rows = (await session.execute(select(OutgoingMail))).scalars().all()
    assert [(m.kind, m.to_address) for m in rows] == [
        ("account.register", "ada@example.org"),  # the link that made the account
        ("account.password_reset", "ada@example.org"),
    ]

    sender = build_mail_sender(web_app.state.settings, web_app.state.db)
    assert await sender.step() == 2
    async with web_app.state.db.transaction() as session:
        reset = select(OutgoingMail).where(OutgoingMail.kind == "account.password_reset")
        (mail,) = (await session.execute(reset)).scalars().all()
    assert mail.text_body == mail.html_body == SCRUBBED  # the link is not kept here...
    match = LINK.search(kept_text(web_app.state.settings.data_dir, mail.id))  # ...but there
    assert match is not None
    path = match.group(1)

    async with new_client(web_app) as ada:
        assert (await _reset(ada, path, "short")).status_code == 400  # refused, link kept
        done = await _reset(ada, path, "second password 456")
        assert done.status_code == 303 and done.headers["location"] == "/login"
        assert (await ada.get(path)).status_code == 400  # used: it opens no more
        assert (await login(ada, "ada@example.org", "first password 123")).status_code != 303
        assert (await login(ada, "ada@example.org", "second password 456")).status_code == 303

    async with web_app.state.db.transaction() as session:
        account = (await session.execute(select(Account))).scalar_one()
        payload = [account.id, tag_of(account.password_hash)]
    fresh = URLSafeTimedSerializer(TEST_SECRET, salt=RESET_SALT).dumps(payload)
    old = URLSafeTimedSerializer(TEST_SECRET, salt=RESET_SALT, signer=_LongAgo).dumps(payload)
    async with new_client(web_app) as late:
        assert (await late.get(f"/password/reset/{fresh}")).status_code == 200
        assert (await late.get(f"/password/reset/{old}")).status_code == 400  # over an hour


@pytest.mark.parametrize(
    "asked_for",
    [["ada@example.org"] * 4, ["ada+1@example.org", "ada+2@example.org"] * 2],
    ids=["same", "plus-tags"],
)
async def test_a_fourth_reset_mail_in_an_hour_is_not_sent_and_the_page_is_the_same(
    web_app: Starlette, asked_for: list[str]
) -> None:
    """Per mailbox: two accounts ada+1@ and ada+2@ reach one mailbox, and share its three."""
    async with new_client(web_app) as setup:
        for email in sorted(set(asked_for)) + ["bob@example.org"]:
            assert (await register(setup, email, "first password 123")).status_code == 303

    def from_address(number: int) -> httpx.AsyncClient:
        transport = httpx.ASGITransport(app=web_app, client=(f"203.0.113.{number}", 4000))
        return httpx.AsyncClient(
            transport=transport, base_url="https://cart.test", headers={"Accept": "text/html"}
        )

    pages = []
    for number, email in enumerate([*asked_for, "bob@example.org"], start=1):
        async with from_address(number) as stranger:
            asked = await _ask(stranger, email)
            assert asked.status_code == 303 and asked.headers["location"] == "/login"
            pages.append((await stranger.get("/login")).text.count("If an account"))
    assert pages == [1] * 5  # the 4th answers as the others did
    async with web_app.state.db.transaction() as session:
        reset = select(OutgoingMail).where(OutgoingMail.kind == "account.password_reset")
        sent = [m.to_address for m in (await session.execute(reset)).scalars().all()]
    assert sorted(sent) == sorted(asked_for[:3]) + ["bob@example.org"]
