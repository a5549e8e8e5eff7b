"""Login and registration against a stranger who tries hard (issue 14), over real HTTP.

Password guesses are counted in the database per device (a browser that has logged in to
the account holds a device cookie), per account from every other browser, and per client
address; over the quota the answer is 429 with Retry-After, argon2 does not run and nothing changes.
argon2 never runs while the request holds a database connection. Registration answers
the same whether or not the address has an account, runs no argon2 (it mails a link)
and mails one recipient at most a few times an hour. These tests are about the quotas in
the database, so the shop runs without the per-client pacing in front of them
(service/pacing.py; tests/service/test_pacing.py).
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from argon2 import PasswordHasher
from sqlalchemy import func, select

from cart.identity.accounts import Account, Passwords
from cart.identity.devices import DEVICE_COOKIE
from cart.identity.registrations import PendingRegistration
from cart.web import quotas
from cart.web.config import configure_web
from cart.web.mails import account_mail, register_attempt_mail
from cart.web.quotas import (
    LOGIN_ADDRESS,
    LOGIN_DEVICE,
    LOGIN_UNTRUSTED,
    REGISTER_ACCOUNT,
    REGISTER_ADDRESS,
    REGISTER_ALL,
    _wait,
)
from mail.models import OutgoingMail
from store.throttle import Quota, ThrottleHit
from tests.cart.web_support import csrf_token, login, register, submit_registration
from tests.support.shop import LiveShop, live_shop, unpaced
from tests.support.state import count_writes, snapshot

PASSWORD = "correct horse battery"  # noqa: S105
AT_ONCE = LOGIN_UNTRUSTED.burst  # guesses a browser new to the account gets in a row
WRONG = "not the password"  # noqa: S105


class CountingPasswords(Passwords):
    """Cheap argon2 that counts its runs and how many DB connections were out meanwhile."""

    def __init__(self, shop: LiveShop) -> None:
        super().__init__(PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))
        self.shop = shop
        self.runs = 0
        self.connections_held: list[int] = []

    def _held(self) -> None:
        self.runs += 1
        self.connections_held.append(self.shop.app.state.db.engine.pool.checkedout())

    def hash(self, password: str) -> str:
        self._held()
        return super().hash(password)

    def verify(self, password_hash: str | None, password: str) -> bool:
        self._held()
        return super().verify(password_hash, password)


@pytest.fixture
async def shop(
    tmp_path: Path, database_url: str
) -> AsyncIterator[tuple[LiveShop, CountingPasswords]]:
    async with live_shop(tmp_path, database_url, pacer=unpaced()) as running:
        passwords = CountingPasswords(running)
        configure_web(running.app.state, passwords=passwords)
        yield running, passwords


async def hits(shop: LiveShop) -> int:
    async with shop.app.state.db.transaction() as session:
        return int(await session.scalar(select(func.count()).select_from(ThrottleHit)) or 0)


async def test_the_fourth_wrong_password_in_a_row_is_429_without_argon2_and_changes_nothing(
    shop: tuple[LiveShop, CountingPasswords],
) -> None:
    running, passwords = shop
    async with running.client(headers={"Accept": "text/html"}) as owner:
        await register(owner, app=running.app)
    async with running.client(headers={"Accept": "text/html"}) as guesser:
        for _ in range(AT_ONCE):
            wrong = await login(guesser, "ada@example.org", WRONG)
            assert wrong.status_code == 400 and "do not match an account" in wrong.text
        runs = passwords.runs
        before = await snapshot(running.app.state.db)

        page = await login(guesser, "ada@example.org", WRONG + "!")
        assert page.status_code == 429
        assert page.headers["content-type"].startswith("text/html")
        assert 0 < int(page.headers["retry-after"]) <= LOGIN_UNTRUSTED.burst_window.total_seconds()
        assert "Too many wrong passwords" in page.text
        assert '<a href="/password/forgot">Forgotten password</a>' in page.text  # the way on
        # Even the right password waits: the account's guesses are used up.
        guesser.headers["Accept"] = "application/json"
        api = await login(guesser, "ada@example.org", PASSWORD)
        assert api.status_code == 429
        assert api.headers["content-type"] == "application/problem+json"
        problem = api.json()
        assert problem["status"] == 429 and problem["quota"] == LOGIN_UNTRUSTED.name
        assert problem["retry_after"] == int(api.headers["retry-after"])
        assert problem["help"] == {"href": "/password/forgot", "title": "Forgotten password"}
        # The page says how long, in the words a person reads, as Retry-After does.
        minutes = round(problem["retry_after"] / 60)
        assert f"try again in {minutes} minutes" in problem["detail"]

        assert passwords.runs == runs  # argon2 ran for none of them
        assert await snapshot(running.app.state.db) == before
        assert "Logged in as" not in (await guesser.get("/")).text
    assert passwords.connections_held and set(passwords.connections_held) == {0}


async def test_a_new_browser_gets_three_guesses_at_once_and_five_a_quarter_hour(
    shop: tuple[LiveShop, CountingPasswords],
) -> None:
    running, passwords = shop
    moment = [datetime.now(UTC)]
    running.app.state.clock = lambda: moment[0]
    configure_web(running.app.state, passwords=passwords)
    async with running.client(headers={"Accept": "text/html"}) as owner:
        await register(owner, app=running.app)
    started = moment[0]

    async def guesses(browser: httpx.AsyncClient, tries: int) -> list[int]:
        return [(await login(browser, "ada@example.org", WRONG)).status_code for _ in range(tries)]

    async with running.client(headers={"Accept": "text/html"}) as guesser:
        assert await guesses(guesser, AT_ONCE + 1) == [400] * AT_ONCE + [429]
        runs = passwords.runs
        moment[0] = started + LOGIN_UNTRUSTED.burst_window + timedelta(seconds=1)
        spread = LOGIN_UNTRUSTED.limit - AT_ONCE  # what is left of the quarter hour
        assert await guesses(guesser, spread + 1) == [400] * spread + [429]
        assert passwords.runs - runs == spread
        refused = await login(guesser, "ada@example.org", PASSWORD)
        assert refused.status_code == 429
        # The quarter hour's budget is spent: the wait is until its first guess leaves it.
        wait = int(refused.headers["retry-after"])
        assert wait > LOGIN_UNTRUSTED.burst_window.total_seconds()
        moment[0] += timedelta(seconds=wait)
        assert (await login(guesser, "ada@example.org", PASSWORD)).status_code == 303


async def test_once_refused_further_guesses_are_refused_without_a_unit_of_work(
    shop: tuple[LiveShop, CountingPasswords], monkeypatch: pytest.MonkeyPatch
) -> None:
    running, _ = shop
    units = count_writes(running.app.state.db, monkeypatch)
    async with running.client(headers={"Accept": "text/html"}) as guesser:
        for _ in range(AT_ONCE):
            assert (await login(guesser, "ada@example.org", WRONG)).status_code == 400
        assert (await login(guesser, "ada@example.org", WRONG)).status_code == 429
        counted_units = len(units)  # the database said no once, in a unit
        for _ in range(3):
            refused = await login(guesser, "ada@example.org", WRONG)
            assert refused.status_code == 429 and "retry-after" in refused.headers
        assert len(units) == counted_units


async def test_the_owners_browser_logs_in_while_a_stranger_has_used_the_guesses_up(
    shop: tuple[LiveShop, CountingPasswords],
) -> None:
    running, passwords = shop
    elsewhere = httpx.AsyncHTTPTransport(local_address="127.0.0.3")
    async with running.client(headers={"Accept": "text/html"}) as owner:
        await register(owner, app=running.app)
        await owner.post("/logout", data={"csrf_token": _csrf((await owner.get("/")).text)})
        async with running.client(headers={"Accept": "text/html"}, transport=elsewhere) as other:
            for _ in range(AT_ONCE):
                await login(other, "ada@example.org", WRONG)
            assert (await login(other, "ada@example.org", WRONG)).status_code == 429
        # A browser new to the account waits, even at the owner's address...
        async with running.client(headers={"Accept": "text/html"}) as new_browser:
            assert (await login(new_browser, "ada@example.org", PASSWORD)).status_code == 429
        # ...the owner's own browser does not: its guesses are its own.
        assert (await login(owner, "ada@example.org", PASSWORD)).status_code == 303
        await owner.post("/logout", data={"csrf_token": _csrf((await owner.get("/")).text)})
        # And it can be locked out on its own, without unlocking anyone else.
        for _ in range(LOGIN_DEVICE.limit):
            assert (await login(owner, "ada@example.org", WRONG)).status_code == 400
        runs = passwords.runs
        owner.headers["Accept"] = "application/json"
        refused = await login(owner, "ada@example.org", PASSWORD)
        assert refused.status_code == 429 and refused.json()["quota"] == LOGIN_DEVICE.name
        assert passwords.runs == runs


async def test_guesses_spread_over_many_addresses_share_one_budget(
    shop: tuple[LiveShop, CountingPasswords],
) -> None:
    running, passwords = shop
    async with running.client(headers={"Accept": "text/html"}) as owner:
        await register(owner, app=running.app)
    runs, answers = passwords.runs, []
    for n in range(2, 2 + 2 * AT_ONCE):  # one guess from each of six addresses
        transport = httpx.AsyncHTTPTransport(local_address=f"127.0.0.{n}")
        async with running.client(headers={"Accept": "text/html"}, transport=transport) as bot:
            answers.append((await login(bot, "ada@example.org", f"{WRONG} {n}")).status_code)
    assert answers == [400] * AT_ONCE + [429] * AT_ONCE
    assert passwords.runs - runs == AT_ONCE


async def test_one_address_guessing_many_accounts_is_stopped_too(
    shop: tuple[LiveShop, CountingPasswords],
) -> None:
    running, passwords = shop
    async with running.client(headers={"Accept": "text/html"}) as guesser:
        for n in range(LOGIN_ADDRESS.limit):
            answer = await login(guesser, f"someone{n}@example.org", "a guess at it")
            assert answer.status_code == 400
        runs, counted = passwords.runs, await hits(running)
        refused = await login(guesser, "one-more@example.org", "a guess at it")
        assert refused.status_code == 429 and "retry-after" in refused.headers
        assert (passwords.runs, await hits(running)) == (runs, counted)


async def test_a_device_cookie_trusts_its_browser_for_its_own_account_only(
    shop: tuple[LiveShop, CountingPasswords],
) -> None:
    running, _ = shop
    async with running.client(headers={"Accept": "text/html"}) as bob:
        await register(bob, "bob@example.org", app=running.app)
    async with running.client(headers={"Accept": "text/html"}) as ada:
        await register(ada, app=running.app)
        cookie = ada.cookies.get(DEVICE_COOKIE)
        assert cookie
        # Ada's browser guessing at Bob's account is a stranger there.
        for _ in range(AT_ONCE):
            assert (await login(ada, "bob@example.org", WRONG)).status_code == 400
        assert (await login(ada, "bob@example.org", WRONG)).status_code == 429
    # A cookie we did not sign is no cookie: the untrusted budget is spent.
    async with running.client(headers={"Accept": "text/html"}) as forger:
        forger.cookies.set(DEVICE_COOKIE, cookie[:-2] + "xx", path="/login")
        assert (await login(forger, "bob@example.org", PASSWORD)).status_code == 429


async def test_a_good_login_clears_its_browsers_failures_not_a_strangers(
    shop: tuple[LiveShop, CountingPasswords],
) -> None:
    running, _ = shop
    async with running.client(headers={"Accept": "text/html"}) as shopper:
        await register(shopper, app=running.app)
        await shopper.post("/logout", data={"csrf_token": _csrf((await shopper.get("/")).text)})
        async with running.client(headers={"Accept": "text/html"}) as stranger:
            for _ in range(AT_ONCE - 1):
                assert (await login(stranger, "ada@example.org", WRONG)).status_code == 400
            for _ in range(LOGIN_DEVICE.limit - 1):
                assert (await login(shopper, "ada@example.org", WRONG)).status_code == 400
            assert (await login(shopper)).status_code == 303
            await shopper.post("/logout", data={"csrf_token": _csrf((await shopper.get("/")).text)})
            for _ in range(LOGIN_DEVICE.limit - 1):
                assert (await login(shopper, "ada@example.org", WRONG + "?")).status_code == 400
            # The stranger's count was not cleared by the owner's success.
            assert (await login(stranger, "ada@example.org", WRONG)).status_code == 400
            assert (await login(stranger, "ada@example.org", WRONG)).status_code == 429


def _csrf(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match
    return match.group(1)


def _same_page(html: str) -> str:
    return re.sub(r'name="csrf_token" value="[^"]+"', "", html)


async def test_registering_a_known_address_answers_byte_for_byte_as_a_new_one(
    shop: tuple[LiveShop, CountingPasswords],
) -> None:
    running, passwords = shop
    async with running.client(headers={"Accept": "text/html"}) as owner:
        await register(owner, "known@example.org", app=running.app)
    before = await snapshot(running.app.state.db)
    runs = passwords.runs

    answers = []
    async with running.client(headers={"Accept": "text/html"}) as visitor:
        for email in ("known@example.org", "new@example.org"):
            answer = await submit_registration(visitor, email)
            landing = await visitor.get(answer.headers["location"])
            answers.append((answer.status_code, answer.headers, answer.content, landing.content))
    (status, headers, body, page), other = answers
    assert status == 303 and headers["location"] == "/register/sent"
    assert (headers.get("set-cookie"), body, page) == (other[1].get("set-cookie"), *other[2:])
    assert b"Check your mail" in page
    assert passwords.runs == runs  # asking for a link runs no argon2, known address or not

    # The owner of the known address hears of the attempt; the new address gets its link.
    earlier = {row[0] for row in before["outgoing_mail"]}  # ids
    async with running.app.state.db.transaction() as session:
        mails = (
            await session.execute(
                select(OutgoingMail.kind, OutgoingMail.to_address).where(
                    OutgoingMail.id.not_in(earlier)
                )
            )
        ).all()
    assert sorted(tuple(mail) for mail in mails) == [
        ("account.register", "new@example.org"),
        ("account.register_attempt", "known@example.org"),
    ]
    after = await snapshot(running.app.state.db)
    for table in ("accounts", "account_sessions"):  # nothing about any account changed
        assert after[table] == before[table]

    async with running.client(headers={"Accept": "text/html"}) as check:
        assert (await login(check, "known@example.org", PASSWORD)).status_code == 303


async def test_registrations_from_one_address_are_limited(
    shop: tuple[LiveShop, CountingPasswords],
) -> None:
    running, passwords = shop
    async with running.client(headers={"Accept": "text/html"}) as flood:
        for n in range(REGISTER_ADDRESS.limit):
            answer = await submit_registration(flood, f"bot{n}@example.org")
            assert answer.status_code == 303
        before = await snapshot(running.app.state.db)
        refused = await submit_registration(flood, "bot-one-more@example.org")
        assert refused.status_code == 429 and int(refused.headers["retry-after"]) > 0
        assert await snapshot(running.app.state.db) == before
    assert passwords.runs == 0
    async with running.app.state.db.transaction() as session:
        pending = await session.scalar(select(func.count()).select_from(PendingRegistration))
        mails = await session.scalar(select(func.count()).select_from(OutgoingMail))
    assert pending == mails == REGISTER_ADDRESS.limit  # a link each, no account yet


@pytest.mark.parametrize(
    "address", ["victim@example.org", "Victim+{n}@Example.org"], ids=["same", "plus-tags"]
)
async def test_one_recipient_gets_at_most_a_few_registration_mails_an_hour(
    shop: tuple[LiveShop, CountingPasswords], address: str
) -> None:
    """Each client of its own: only the per-recipient quota can stop them. A +tag reaches
    the same mailbox, so victim+1@, victim+2@... share victim@'s quota."""
    running, _ = shop
    for n in range(REGISTER_ACCOUNT.limit + 2):
        local = httpx.AsyncHTTPTransport(local_address=f"127.0.4.{n + 1}")
        async with running.client(headers={"Accept": "text/html"}, transport=local) as sender:
            answer = await submit_registration(sender, address.format(n=n))
        assert answer.status_code == (303 if n < REGISTER_ACCOUNT.limit else 429)
    async with running.app.state.db.transaction() as session:
        mails = await session.scalar(select(func.count()).select_from(OutgoingMail))
    assert mails == REGISTER_ACCOUNT.limit


async def test_registrations_from_everywhere_share_one_budget(
    shop: tuple[LiveShop, CountingPasswords], monkeypatch: pytest.MonkeyPatch
) -> None:
    running, passwords = shop
    small = Quota(REGISTER_ALL.name, 2, REGISTER_ALL.window)
    monkeypatch.setattr(quotas, "REGISTER_ALL", small)
    for n in range(small.limit):  # a client each: the per-address quota never bites
        async with running.client(headers={"Accept": "text/html"}) as visitor:
            assert (await submit_registration(visitor, f"early{n}@example.org")).status_code == 303
    runs = passwords.runs
    before = await snapshot(running.app.state.db)
    async with running.client(headers={"Accept": "text/html"}) as late:
        refused = await submit_registration(late, "late@example.org")
    assert refused.status_code == 429 and int(refused.headers["retry-after"]) > 0
    assert passwords.runs == runs and await snapshot(running.app.state.db) == before


async def test_a_made_up_or_used_reset_link_spends_no_argon2(
    shop: tuple[LiveShop, CountingPasswords],
) -> None:
    running, passwords = shop
    async with running.client(headers={"Accept": "text/html"}) as owner:
        await register(owner, app=running.app)
    resets = running.app.state.cart_web.resets
    async with running.app.state.db.transaction() as session:
        account = await session.scalar(select(Account))
    assert account is not None
    used = resets.url_for(account.id, "a hash this account no longer has")
    runs = passwords.runs
    before = await snapshot(running.app.state.db)
    async with running.client(headers={"Accept": "text/html"}) as stranger:
        token = csrf_token((await stranger.get("/login")).text)  # a good token, a bad link
        for path in ("/password/reset/made-up", urlsplit(used).path):
            answer = await stranger.post(
                path, data={"password": "a long new password", "csrf_token": token}
            )
            assert answer.status_code == 400 and "password" in answer.text
    after = await snapshot(running.app.state.db)
    # Only the attempt on the signed (used) link was counted; no hash, nothing else.
    after.pop("throttle_hits"), before.pop("throttle_hits")
    assert passwords.runs == runs and after == before


async def test_a_forged_login_form_spends_no_argon2(
    shop: tuple[LiveShop, CountingPasswords],
) -> None:
    running, passwords = shop
    async with running.client(headers={"Accept": "text/html"}) as forger:
        await forger.get("/login")
        answer = await forger.post(
            "/login", data={"email": "ada@example.org", "password": "x" * 12, "csrf_token": "no"}
        )
        assert answer.status_code == 403
    assert passwords.runs == 0 and await hits(running) == 0


def test_the_owner_is_told_in_plain_words_with_the_way_back_in() -> None:
    mail = register_attempt_mail("https://cart.test")
    assert "already has one" in mail.text and "https://cart.test/password/forgot" in mail.text
    assert mail.html is not None and mail.html.startswith("<p>")
    assert 'href="https://cart.test/login"' in mail.html
    assert account_mail("account.something-else") is None


def test_a_wait_is_said_in_seconds_then_minutes() -> None:
    assert [_wait(s) for s in (1, 40, 89, 90, 300, 899)] == [
        "1 second",
        "40 seconds",
        "89 seconds",
        "2 minutes",
        "5 minutes",
        "15 minutes",
    ]
