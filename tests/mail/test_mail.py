"""Transactional mail: one mail per order change, written with it, delivered to a real
SMTP server on loopback (aiosmtpd), retried while that server is down, kept as .eml
files when no server is configured; and the signed order link the mails carry."""

from __future__ import annotations

import time
from datetime import timedelta
from email import message_from_bytes, policy
from pathlib import Path

import httpx
import pytest
from itsdangerous import TimestampSigner, URLSafeTimedSerializer
from pydantic import SecretStr
from sqlalchemy import select
from starlette.applications import Starlette

from cart.orders.contact import Contact
from cart.orders.models import ShopOrder
from cart.orders.orders import transition
from cart.orders.states import OrderStatus
from cart.web.order_links import SALT
from mail import sender as sender_module
from mail.models import GIVEN_UP, KEPT, QUEUED, SCRUBBED, SENT, OutgoingMail
from mail.queue import queue_mail
from mail.transport import parse_smtp_url
from service.mailing import build_mail_sender
from service.settings import Settings
from store import Database, utcnow
from tests.cart.checkout_support import SHOPPER, checkout, fill, stock_shop
from tests.cart.web_support import (
    REGISTRATION_LINK,
    finish_registration,
    new_client,
    submit_registration,
)
from tests.conftest import TEST_SECRET
from tests.mail.support import parts, smtp_server
from tests.support.loopback import free_port

ADA = Contact("Ada Lovelace", "ada@example.org", "+44 20 7946 0000")


async def mails(db: Database) -> list[OutgoingMail]:
    async with db.transaction() as session:
        query = select(OutgoingMail).order_by(OutgoingMail.id)
        return list((await session.execute(query)).scalars())


async def placed_order(db: Database, contact: Contact | None = ADA) -> ShopOrder:
    shop = await stock_shop(db)
    await fill(db, SHOPPER, (shop["loaf"], 2))
    return (await checkout(db, contact=contact)).order


async def pay(db: Database, order_id: int) -> ShopOrder | None:
    async with db.transaction() as session:
        return await transition(
            session,
            order_id,
            OrderStatus.PAID,
            transaction_id="TXN-4242",
            paid_at=utcnow(),
            now=utcnow(),
        )


def smtp_settings(settings: Settings, port: int) -> Settings:
    return settings.model_copy(update={"smtp_url": SecretStr(f"smtp://127.0.0.1:{port}")})


async def test_each_order_change_queues_exactly_one_mail_in_its_transaction(
    db: Database,
) -> None:
    order = await placed_order(db)
    assert [(m.kind, m.to_address, m.order_id) for m in await mails(db)] == [
        ("order.placed", "ada@example.org", order.id)
    ]
    assert await pay(db, order.id) is not None
    assert await pay(db, order.id) is None  # the second payment notice moves nothing
    assert [m.kind for m in await mails(db)] == ["order.placed", "order.paid"]


async def test_a_change_that_does_not_commit_leaves_no_mail_behind(db: Database) -> None:
    order = await placed_order(db)
    with pytest.raises(RuntimeError):
        async with db.transaction() as session:
            await transition(session, order.id, OrderStatus.PAID, now=utcnow())
            raise RuntimeError("the process dies before COMMIT")
    assert [m.kind for m in await mails(db)] == ["order.placed"]
    async with db.transaction() as session:
        assert (await session.get(ShopOrder, order.id)).status == "pending"  # type: ignore[union-attr]


async def test_an_order_without_a_contact_sends_nothing(db: Database) -> None:
    await placed_order(db, contact=None)
    assert await mails(db) == []


async def test_mails_reach_a_real_smtp_server_with_text_html_receipt_and_link(
    db: Database, settings: Settings
) -> None:
    order = await placed_order(db)
    await pay(db, order.id)
    port = free_port()
    with smtp_server(port) as mailbox:
        sender = build_mail_sender(smtp_settings(settings, port), db)
        assert await sender.step() == 2
    placed, receipt = mailbox.to("ada@example.org")
    assert placed["Subject"] == "Your order RA-000001 with The Bakery"
    assert receipt["Subject"] == "Receipt for your order RA-000001"
    text, html = parts(receipt)
    for part in (text, html):
        assert "Ada Lovelace" in part and "The Bakery" in part and "Sourdough loaf" in part
        assert "£3.50" in part and "£7.00" in part and "TXN-4242" in part
        assert "https://cart.test/orders/link/" in part
    assert "TXN-4242" not in parts(placed)[0]  # a reference only on the receipt
    assert {m.status for m in await mails(db)} == {SENT}


async def test_while_the_server_is_down_the_mail_waits_and_is_sent_once_it_is_back(
    db: Database, settings: Settings
) -> None:
    await placed_order(db)
    port = free_port()  # nothing listens here yet
    sender = build_mail_sender(smtp_settings(settings, port), db)
    assert await sender.step() == 1
    (waiting,) = await mails(db)
    assert (waiting.status, waiting.attempts) == (QUEUED, 1) and waiting.last_error
    assert await sender.step() == 0  # backing off, not hammering
    with smtp_server(port) as mailbox:
        sender.clock = lambda: utcnow() + timedelta(hours=2)
        assert await sender.step() == 1
    assert len(mailbox.to("ada@example.org")) == 1
    (sent,) = await mails(db)
    assert (sent.status, sent.attempts) == (SENT, 2)


async def test_without_smtp_mails_are_kept_as_eml_files_and_shown_to_operators(
    admin_app: Starlette, operator: httpx.AsyncClient, settings: Settings
) -> None:
    db = admin_app.state.db
    await placed_order(db)
    sender = build_mail_sender(settings, db)
    assert await sender.step() == 1
    (kept,) = await mails(db)
    assert kept.status == KEPT
    eml = Path(settings.data_dir) / "mail" / f"{kept.id:08d}.eml"
    message = message_from_bytes(eml.read_bytes(), policy=policy.default)
    assert message["Subject"] == "Your order RA-000001 with The Bakery"
    listing = (await operator.get("/admin/mail")).text
    assert "ada@example.org" in listing and "Your order RA-000001 with The Bakery" in listing
    one = (await operator.get(f"/admin/mail/{kept.id}")).text
    assert "Sourdough loaf" in one


async def test_the_retention_rule_removes_old_mail_rows_and_files(
    db: Database, settings: Settings
) -> None:
    await placed_order(db)
    sender = build_mail_sender(settings, db)
    await sender.step()
    (kept,) = await mails(db)
    eml = Path(settings.data_dir) / "mail" / f"{kept.id:08d}.eml"
    assert eml.exists() and await sender.purge() == 0  # young mail stays
    sender.clock = lambda: utcnow() + timedelta(days=31)
    assert await sender.purge() == 1
    assert await mails(db) == [] and not eml.exists()


async def test_a_one_time_link_is_kept_only_in_the_delivered_mail_not_in_the_queue(
    admin_app: Starlette, operator: httpx.AsyncClient, settings: Settings
) -> None:
    """A registration link reaches the newcomer and works, but once the mail is sent the
    operator's /admin/mail and the database no longer hold it; an order mail keeps its words."""
    db = admin_app.state.db
    await placed_order(db)
    async with new_client(admin_app) as newcomer:
        assert (await submit_registration(newcomer, "newcomer@example.org")).status_code == 303
        port = free_port()
        with smtp_server(port) as mailbox:
            assert await build_mail_sender(smtp_settings(settings, port), db).step() == 2
        (delivered,) = mailbox.to("newcomer@example.org")
        found = REGISTRATION_LINK.search(parts(delivered)[0])
        assert found is not None and found.group(0) in parts(delivered)[1]
        token = found.group(1).rpartition("/")[2]

        order_mail, register_mail = sorted(await mails(db), key=lambda m: m.kind != "order.placed")
        assert register_mail.kind == "account.register" and register_mail.status == SENT
        assert register_mail.text_body == register_mail.html_body == SCRUBBED
        assert token not in (await operator.get("/admin/mail")).text
        shown = (await operator.get(f"/admin/mail/{register_mail.id}")).text
        assert token not in shown and SCRUBBED in shown
        assert "Sourdough loaf" in (order_mail.text_body or "")
        assert "Sourdough loaf" in (await operator.get(f"/admin/mail/{order_mail.id}")).text

        assert (await finish_registration(newcomer, found.group(1))).status_code == 303


async def test_a_one_time_link_given_up_on_is_not_kept_either(
    db: Database, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with db.transaction() as session:
        queue_mail(session, kind="account.register", to="newcomer@example.org", now=utcnow())
        session.add(OutgoingMail(kind="x", to_address="y@example.org"))  # not of SECRET_KINDS
    async with db.transaction() as session:
        for row in (await session.execute(select(OutgoingMail))).scalars():
            row.subject, row.text_body = "Finish", "https://cart.test/register/finish/SECRET"
    monkeypatch.setattr(sender_module, "MAX_ATTEMPTS", 1)
    sender = build_mail_sender(smtp_settings(settings, free_port()), db)  # nothing listens
    assert await sender.step() == 2
    secret, other = await mails(db)
    assert (secret.status, other.status) == ("dead", "dead")
    assert secret.text_body == GIVEN_UP and "SECRET" in (other.text_body or "")


class _LongAgo(TimestampSigner):
    def get_timestamp(self) -> int:
        return int(time.time()) - 91 * 86_400


async def test_the_signed_link_opens_the_order_without_a_cookie_until_altered_or_expired(
    admin_app: Starlette,
) -> None:
    order = await placed_order(admin_app.state.db)
    link = admin_app.state.cart_web.links.url_for(order.public_id)
    path = link.removeprefix("https://cart.test")
    async with new_client(admin_app) as stranger:  # a fresh browser: no cookie at all
        page = await stranger.get(path)
        assert page.status_code == 200
        assert "Order RA-000001" in page.text and "Sourdough loaf" in page.text
        altered = path[:-2] + ("AA" if not path.endswith("AA") else "BB")
        assert (await stranger.get(altered)).status_code == 404
        expired = URLSafeTimedSerializer(TEST_SECRET, salt=SALT, signer=_LongAgo).dumps(
            order.public_id
        )
        answer = await stranger.get(f"/orders/link/{expired}")
        assert answer.status_code == 404 and "expired" in answer.text
        assert (await stranger.get(f"/orders/{order.number}")).status_code == 404  # no cookie


def test_the_smtp_password_never_shows_in_the_settings_or_the_transport() -> None:
    url = "smtps://shop:hunter2-secret@mail.example:465"
    settings = Settings(smtp_url=url)
    assert "hunter2" not in repr(settings)
    transport = parse_smtp_url(url)
    assert transport.implicit_tls and transport.port == 465 and "hunter2" not in repr(transport)
