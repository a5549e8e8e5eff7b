"""argon2 runs between units of work, never inside one (issues 14 and 18), over real HTTP.

A password check is held open (the hash waits on an event) until another visitor has
been served: if the request checking the password held a database connection meanwhile,
the pool of one the tests run with would leave the other visitor waiting and the event
would never be set. No timing is asserted: each wait has only a generous ceiling.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from argon2 import PasswordHasher

from cart.identity.accounts import Passwords
from cart.web.config import configure_web
from tests.cart.web_support import login, post_form, register
from tests.support.shop import LiveShop, live_shop

CEILING = 60.0  # seconds: only so that a broken build fails instead of hanging


class HeldPasswords(Passwords):
    """Cheap argon2 whose verification, once armed, waits until the test lets it go, and
    notes how many pooled connections were checked out while it waited."""

    def __init__(self, shop: LiveShop) -> None:
        super().__init__(PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))
        self.shop = shop
        self.armed = False
        self.waiting = threading.Event()
        self.release = threading.Event()
        self.connections_held: list[int] = []

    def verify(self, password_hash: str | None, password: str) -> bool:
        if self.armed:
            self.connections_held.append(self.shop.app.state.db.engine.pool.checkedout())
            self.waiting.set()
            if not self.release.wait(CEILING):
                raise AssertionError("the test never let the password check go")
        return super().verify(password_hash, password)


@pytest.fixture
async def shop(tmp_path: Path, database_url: str) -> AsyncIterator[tuple[LiveShop, HeldPasswords]]:
    async with live_shop(tmp_path, database_url) as running:
        passwords = HeldPasswords(running)
        configure_web(running.app.state, passwords=passwords)
        yield running, passwords


async def test_pages_and_writes_are_served_while_a_login_checks_its_password(
    shop: tuple[LiveShop, HeldPasswords],
) -> None:
    running, passwords = shop
    async with running.client(headers={"Accept": "text/html"}) as owner:
        assert (await register(owner, app=running.app)).status_code == 303
    passwords.armed = True
    async with (
        running.client(headers={"Accept": "text/html"}) as ada,
        running.client(headers={"Accept": "text/html"}) as other,
    ):
        logging_in = asyncio.create_task(login(ada))
        assert await asyncio.to_thread(passwords.waiting.wait, CEILING)
        try:
            catalogue = await other.get("/")
            # A write too (a quota count and a queued mail). Not a registration: password
            # work waits its turn, one hash at a time per process, by design.
            asked = await post_form(
                other, "/password/forgot", {"email": "ada@example.org"}, csrf_from="/login"
            )
        finally:
            passwords.release.set()
        answer = await logging_in
    assert catalogue.status_code == 200 and asked.status_code == 303
    assert answer.status_code == 303  # the login itself went through
    assert passwords.connections_held == [0]


async def test_a_password_check_that_is_never_released_fails_the_login_not_the_shop(
    shop: tuple[LiveShop, HeldPasswords],
) -> None:
    """The guard of the test above: the held check really holds (a login waits for it)."""
    running, passwords = shop
    async with running.client(headers={"Accept": "text/html"}) as owner:
        await register(owner, app=running.app)
    passwords.armed = True
    async with running.client(headers={"Accept": "text/html"}) as ada:
        logging_in = asyncio.create_task(login(ada))
        assert await asyncio.to_thread(passwords.waiting.wait, CEILING)
        assert not logging_in.done()
        passwords.release.set()
        assert (await logging_in).status_code == 303
    async with httpx.AsyncClient(base_url=running.origin) as probe:
        assert (await probe.get("/healthz")).status_code == 200
