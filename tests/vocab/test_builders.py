"""Builders: docs/protocol.md's shapes, ids, timestamps and addressing."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from tests.vocab.samples import ACTOR, CALENDAR, CART, ENTRY, FOLLOWERS, MARKET, ORDER, PRODUCT
from vocab import builders as b
from vocab.contexts import AS_PUBLIC, outgoing_context
from vocab.exceptions import AddressingError, ValidationError


def test_extension_types_travel_with_an_as2_fallback() -> None:
    to, cc = [FOLLOWERS], [MARKET]
    ids = b.IdMinter(CART)
    assert b.create(actor=ACTOR, object=ORDER, to=to, cc=cc, activity_id=ids())["object"][
        "type"
    ] == ["Object", "Order"]
    assert b.update(actor=MARKET, object=PRODUCT, to=to, cc=cc, activity_id=ids())["object"][
        "type"
    ] == ["Object", "Product"]
    assert b.create(actor=CALENDAR, object=ENTRY, to=to, cc=cc, activity_id=ids())["object"][
        "type"
    ] == ["Event", "CalendarEntry"]
    assert b.order_paid(
        actor=ACTOR, order_id=ORDER.id, payment_reference="c", to=to, cc=cc, activity_id=ids()
    )["type"] == ["Activity", "OrderPaid"]
    assert b.order_cancelled(actor=ACTOR, order_id=ORDER.id, to=to, cc=cc, activity_id=ids())[
        "type"
    ] == ["Activity", "OrderCancelled"]


def test_every_document_carries_our_context_at_the_top_only() -> None:
    doc = b.create(
        actor=ACTOR, object=ORDER, to=[FOLLOWERS], cc=[MARKET], activity_id=f"{CART}/a/1"
    )
    assert doc["@context"] == outgoing_context()
    assert list(doc)[:3] == ["@context", "id", "type"]
    assert "@context" not in doc["object"]


def test_ids_are_minted_under_our_origin() -> None:
    minted = {b.IdMinter(CART + "/")() for _ in range(50)}
    assert len(minted) == 50
    assert all(re.fullmatch(r"https://cart\.example/activities/[0-9a-f]{32}", i) for i in minted)
    assert b.IdMinter(CART, token=lambda: "x")("orders") == f"{CART}/orders/x"


def test_published_defaults_to_now_in_utc() -> None:
    before = datetime.now(UTC).replace(microsecond=0)
    doc = b.follow(actor=ACTOR, target=MARKET, activity_id=f"{CART}/a/1")
    published = datetime.fromisoformat(doc["published"])
    assert doc["published"].endswith("Z")
    assert before <= published <= datetime.now(UTC)


def test_orders_go_to_followers_and_cc_the_owners_once() -> None:
    to, cc = b.order_addressing(followers=FOLLOWERS, owners=[MARKET, CALENDAR, MARKET])
    assert (to, cc) == ([FOLLOWERS], [MARKET, CALENDAR])
    doc = b.create(actor=ACTOR, object=ORDER, to=to, cc=[*cc, FOLLOWERS], activity_id=f"{CART}/a/1")
    assert doc["to"] == [FOLLOWERS]
    assert doc["cc"] == [MARKET, CALENDAR]


@pytest.mark.parametrize("public", [AS_PUBLIC, "as:Public", "Public"])
def test_we_never_address_the_public(public: str) -> None:
    with pytest.raises(AddressingError):
        b.create(actor=ACTOR, object=ORDER, to=[FOLLOWERS], cc=[public], activity_id=f"{CART}/a/1")
    with pytest.raises(AddressingError):
        b.order_paid(
            actor=ACTOR,
            order_id=ORDER.id,
            payment_reference="c",
            to=[public],
            cc=[],
            activity_id=f"{CART}/a/1",
        )


def test_builders_refuse_non_http_ids() -> None:
    with pytest.raises(ValidationError):
        b.follow(actor=ACTOR, target="acct:market@market.example", activity_id=f"{CART}/a/1")


def test_an_order_item_amount_is_written_as_text() -> None:
    doc = b.create(actor=ACTOR, object=ORDER, to=[FOLLOWERS], cc=[], activity_id=f"{CART}/a/1")
    assert doc["object"]["items"][0]["price"] == {
        "type": "MonetaryAmount",
        "amount": "3.50",
        "currency": "GBP",
    }
    assert doc["object"]["total"]["amount"] == "32.00"
