"""Registration, e-mail first (issue 14): the form takes an address and mails a link; the
link chooses the password, once, within a day, and logs the new shopper in. No argon2
runs before someone holds a link, and a known address gets a different mail, never a
different page."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from sqlalchemy import func, select
from starlette.applications import Starlette

from cart.identity.accounts import Account, Passwords, register
from cart.identity.registrations import LINK_LIFETIME, PendingRegistration
from cart.web import configure_web
from mail.models import SCRUBBED, SENT, OutgoingMail
from service.mailing import build_mail_sender
from service.settings import Settings
from tests.cart.web_support import (
    CHEAP_PASSWORDS,
    REGISTRATION_LINK,
    csrf_token,
    finish_registration,
    login,
    new_client,
    registration_link,
    submit_registration,
)
from tests.mail.support import parts, smtp_server
from tests.mail.test_mail import smtp_settings
from tests.scale.test_metrics import samples
from tests.support.clock import Clock
from tests.support.loopback import free_port
from tests.support.state import snapshot

ADA = "ada@example.org"
PASSWORD = "correct horse battery"  # noqa: S105


@pytest.fixture
def app_clock() -> Clock:
    return Clock.from_wall_time()


class CountingPasswords(Passwords):
    """Cheap argon2 that counts its hashes."""

    def __init__(self) -> None:
        super().__init__(CHEAP_PASSWORDS)
        self.hashes = 0

    def hash(self, password: str) -> str:
        self.hashes += 1
        return super().hash(password)


@pytest.fixture
def passwords(web_app: Starlette) -> CountingPasswords:
    counting = CountingPasswords()
    configure_web(web_app.state, passwords=counting)
    return counting


async def _accounts(app: Starlette) -> list[Account]:
    async with app.state.db.transaction() as session:
        found = list((await session.execute(select(Account))).scalars())
        session.expunge_all()
        return found


async def _link_for(app: Starlette, client: httpx.AsyncClient, email: str = ADA) -> str:
    """Ask for a registration link for `email`; its path, as the mail has it."""
    assert (await submit_registration(client, email)).status_code == 303
    path = await registration_link(app, email)
    assert path is not None
    return path


async def _pending(app: Starlette) -> int:
    async with app.state.db.transaction() as session:
        return int(await session.scalar(select(func.count()).select_from(PendingRegistration)))


async def test_a_new_address_gets_a_link_that_makes_a_verified_account_once(
    web_app: Starlette, web_client: httpx.AsyncClient, passwords: CountingPasswords
) -> None:
    asked = await submit_registration(web_client, ADA)
    assert asked.status_code == 303 and asked.headers["location"] == "/register/sent"
    sent = await web_client.get("/register/sent")
    assert "Check your mail" in sent.text and "24 hours" in sent.text
    assert passwords.hashes == 0 and await _accounts(web_app) == []
    path = await registration_link(web_app, ADA)
    assert path is not None

    form = await web_client.get(path)
    assert form.status_code == 200 and ADA in form.text and 'name="password"' in form.text
    short = await web_client.post(
        path, data={"csrf_token": csrf_token(form.text), "password": "short"}
    )
    assert short.status_code == 400 and "at least 10 characters" in short.text
    assert 'name="password"' in short.text  # the link still works
    assert passwords.hashes == 0 and await _accounts(web_app) == []

    done = await finish_registration(web_client, path, PASSWORD)
    assert done.status_code == 303 and done.headers["location"] == "/orders"
    page = (await web_client.get("/orders")).text
    assert "Your account is created." in page and f"You are logged in as {ADA}." in page
    (account,) = await _accounts(web_app)
    assert account.email == ADA and account.email_verified_at is not None
    assert passwords.hashes == 1 and await _pending(web_app) == 0

    async with new_client(web_app) as again:  # a used link opens nothing and makes nothing
        used = await again.get(path)
        assert used.status_code == 400 and "This link does not work" in used.text
        before = await snapshot(web_app.state.db)
        token = csrf_token((await again.get("/login")).text)
        answer = await again.post(path, data={"csrf_token": token, "password": "another password"})
        assert answer.status_code == 400 and "This link does not work" in answer.text
        assert passwords.hashes == 1
        after = await snapshot(web_app.state.db)
        after.pop("throttle_hits"), before.pop("throttle_hits")
        assert after == before
        assert (await login(again, ADA, PASSWORD)).status_code == 303


async def test_a_known_address_gets_a_mail_saying_so_and_nothing_changes(
    web_app: Starlette, web_client: httpx.AsyncClient, passwords: CountingPasswords
) -> None:
    await register(web_app.state.db, passwords, ADA, PASSWORD)
    (account,) = await _accounts(web_app)
    asked = await submit_registration(web_client, "ADA@example.org")
    assert asked.status_code == 303 and asked.headers["location"] == "/register/sent"
    assert await registration_link(web_app, "ADA@example.org") is None
    assert await _pending(web_app) == 0
    async with web_app.state.db.transaction() as session:
        (mail,) = (await session.execute(select(OutgoingMail))).scalars()
    assert (mail.kind, mail.to_address, mail.account_id) == (
        "account.register_attempt",
        ADA,  # as the account has it
        account.id,
    )
    (after,) = await _accounts(web_app)
    assert (after.email, after.password_hash) == (account.email, account.password_hash)
    assert passwords.hashes == 1  # the account's own, made above
    words = await web_app.state.db.read(
        build_mail_sender(web_app.state.settings, web_app.state.db).render,
        mail.kind,
        None,
        mail.account_id,
    )
    assert (
        words is not None and "already has one" in words.text and "/password/forgot" in words.text
    )


async def test_a_forged_form_on_a_real_link_spends_no_argon2_and_keeps_the_link(
    web_app: Starlette, web_client: httpx.AsyncClient, passwords: CountingPasswords
) -> None:
    path = await _link_for(web_app, web_client)
    before = await snapshot(web_app.state.db)
    forged = await web_client.post(path, data={"csrf_token": "forged", "password": PASSWORD})
    assert forged.status_code == 403
    assert passwords.hashes == 0 and await snapshot(web_app.state.db) == before
    assert (await finish_registration(web_client, path)).status_code == 303


@pytest.mark.parametrize("token", ["made-up", "x" * 300, "é"])
async def test_a_made_up_link_shows_a_page_and_spends_no_argon2(
    web_app: Starlette, web_client: httpx.AsyncClient, passwords: CountingPasswords, token: str
) -> None:
    path = f"/register/finish/{token}"
    shown = await web_client.get(path)
    assert shown.status_code == 400 and "This link does not work" in shown.text
    assert shown.headers["content-type"].startswith("text/html")
    before = await snapshot(web_app.state.db)
    token = csrf_token((await web_client.get("/login")).text)
    answer = await web_client.post(path, data={"csrf_token": token, "password": PASSWORD})
    assert answer.status_code == 400 and "This link does not work" in answer.text
    after = await snapshot(web_app.state.db)
    # Only the attempt may be counted: a guessed link is a guess, within the login quotas.
    after.pop("throttle_hits"), before.pop("throttle_hits")
    assert passwords.hashes == 0 and after == before


async def test_an_expired_link_makes_nothing_and_the_clean_up_removes_it(
    web_app: Starlette, web_client: httpx.AsyncClient, app_clock: Clock
) -> None:
    path = await _link_for(web_app, web_client)
    form = await web_client.get(path)
    assert form.status_code == 200
    metrics = samples((await web_client.get("/metrics")).text)
    assert metrics["rose_cart_pending_registrations"] == 1

    app_clock.advance(LINK_LIFETIME + timedelta(seconds=1))
    late = await web_client.post(
        path, data={"csrf_token": csrf_token(form.text), "password": PASSWORD}
    )
    assert late.status_code == 400 and "older than a day" in late.text
    assert (await web_client.get(path)).status_code == 400
    assert await _accounts(web_app) == []

    assert await web_app.state.federation.purge() >= 1
    assert await _pending(web_app) == 0
    metrics = samples((await web_client.get("/metrics")).text)
    assert metrics["rose_cart_pending_registrations"] == 0


async def test_an_account_made_meanwhile_for_the_address_wins_and_its_links_die(
    web_app: Starlette, web_client: httpx.AsyncClient, passwords: CountingPasswords
) -> None:
    for _ in range(2):  # two links to the same address: the first one used wins
        await submit_registration(web_client, ADA)
    async with web_app.state.db.transaction() as session:
        texts = (
            await session.scalars(select(OutgoingMail.text_body).order_by(OutgoingMail.id))
        ).all()
    first, second = (REGISTRATION_LINK.search(t or "").group(1) for t in texts)  # type: ignore[union-attr]
    assert (await web_client.get(second)).status_code == 200
    assert (await finish_registration(web_client, first)).status_code == 303
    token = csrf_token((await web_client.get("/orders")).text)  # logged in: a new session
    gone = await web_client.post(second, data={"csrf_token": token, "password": PASSWORD})
    assert gone.status_code == 400 and len(await _accounts(web_app)) == 1

    # A link whose address got an account some other way (the CLI) makes no second one.
    async with new_client(web_app) as bob:
        path = await _link_for(web_app, bob, "bob@example.org")
        form = await bob.get(path)
        await register(web_app.state.db, passwords, "Bob@Example.org", "bob's own password")
        taken = await bob.post(
            path, data={"csrf_token": csrf_token(form.text), "password": PASSWORD}
        )
        assert taken.status_code == 409 and "already has an account" in taken.text
        assert (await login(bob, "bob@example.org", PASSWORD)).status_code == 400
    assert len(await _accounts(web_app)) == 2


async def test_without_smtp_the_page_says_where_the_kept_mail_is_and_its_link_reads_whole(
    web_app: Starlette, web_client: httpx.AsyncClient, settings: Settings
) -> None:
    """The demo: no mail server, so a newcomer opens the kept .eml file as text."""
    path = await _link_for(web_app, web_client)
    page = (await web_client.get("/register/sent")).text
    folder = (settings.data_dir / "mail").resolve()
    assert str(folder) in page and "/admin/mail" in page
    assert await build_mail_sender(settings, web_app.state.db).step() == 1
    (eml,) = folder.glob("*.eml")
    assert f"https://cart.test{path}\n".encode() in eml.read_bytes()  # the mailbox keeps it
    async with web_app.state.db.transaction() as session:  # the operator's copy does not
        assert await session.scalar(select(OutgoingMail.text_body)) == SCRUBBED
    assert (await finish_registration(web_client, path)).status_code == 303


async def test_the_link_reaches_a_real_smtp_server_and_works(
    web_app: Starlette, web_client: httpx.AsyncClient, settings: Settings
) -> None:
    await submit_registration(web_client, ADA)
    port = free_port()
    with smtp_server(port) as mailbox:
        sender = build_mail_sender(smtp_settings(settings, port), web_app.state.db)
        assert await sender.step() == 1
    (message,) = mailbox.to(ADA)
    assert message["Subject"] == "Finish creating your account"
    text, html = parts(message)
    found = REGISTRATION_LINK.search(text)
    assert found is not None and found.group(0) in html
    async with web_app.state.db.transaction() as session:
        assert await session.scalar(select(OutgoingMail.status)) == SENT
    assert (await finish_registration(web_client, found.group(1))).status_code == 303
    (account,) = await _accounts(web_app)
    assert account.email == ADA
