"""parse(build(x)) == x for generated values, on the fast path and through JSON-LD."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vocab.model import (
    ENTRY_STATES,
    ORDER_STATUSES,
    Accept,
    CalendarEntry,
    Create,
    Delete,
    Follow,
    Fulfilment,
    MonetaryAmount,
    Order,
    OrderCancelled,
    OrderItem,
    OrderPaid,
    OrderRefunded,
    Page,
    Product,
    Reject,
    Undo,
    Update,
)
from vocab.parse import compact, parse, takes_fast_path
from vocab.reader import read
from vocab.writer import document

FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SLOW = settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])

hosts = st.sampled_from(
    [
        "cart.example",
        "market.example",
        "calendar.example",
        "xn--bcher-kva.example",
        "127.0.0.1:8080",
    ]
)
paths = st.text("abcdefghijklmnopqrstuvwxyz0123456789-_~%.", min_size=1, max_size=20)
iris = st.builds(
    lambda s, h, p, q: f"{s}://{h}/{p}{q}",
    st.sampled_from(["http", "https"]),
    hosts,
    paths,
    st.sampled_from(["", "#main-key", "?page=2"]),
)
# No surrogates (not UTF-8) and no NUL (vocab/limits.py refuses it: PostgreSQL cannot keep it).
names = st.text(
    st.characters(exclude_categories=["Cs"], exclude_characters="\x00"), min_size=1, max_size=40
).filter(lambda s: s.strip() != "")
moments = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
)
currencies = st.sampled_from(["GBP", "EUR", "USD", "JPY", "CHF", "KWD"])
amounts = st.decimals(
    min_value=0, max_value=Decimal("999999999999"), places=2, allow_nan=False, allow_infinity=False
)


@st.composite
def money(draw: Any, currency: str | None = None) -> MonetaryAmount:
    return MonetaryAmount(amount=draw(amounts), currency=currency or draw(currencies))


fulfilments = st.one_of(
    st.builds(
        Fulfilment,
        kind=st.just("Pickup"),
        id=st.one_of(st.none(), iris),
        name=st.one_of(st.none(), names),
        location=st.one_of(st.none(), names),
        start_time=st.one_of(st.none(), moments),
        end_time=st.one_of(st.none(), moments),
    ),
    st.builds(
        Fulfilment,
        kind=st.just("Delivery"),
        id=st.one_of(st.none(), iris),
        name=st.one_of(st.none(), names),
        area=st.one_of(st.none(), names),
        fee=st.one_of(st.none(), money()),
    ),
)
pages = st.one_of(
    st.builds(Page, id=iris),
    st.builds(Page, id=iris, name=names, url=st.one_of(st.none(), iris)),
    st.builds(
        Page,
        id=iris,
        name=names,
        fulfilment=st.lists(fulfilments, max_size=3).map(tuple),
    ),
)


@st.composite
def orders(draw: Any) -> Order:
    currency = draw(currencies)
    items = draw(
        st.lists(
            st.builds(
                OrderItem,
                ordered_item=iris,
                quantity=st.integers(1, 10_000),
                price=money(currency),
                name=st.one_of(st.none(), names),
            ),
            min_size=1,
            max_size=5,
        )
    )
    return Order(
        id=draw(iris),
        attributed_to=draw(iris),
        order_number=draw(names),
        order_status=draw(st.sampled_from(sorted(ORDER_STATUSES))),
        items=tuple(items),
        total=draw(money(currency)),
        page=draw(st.one_of(st.none(), pages)),
        published=draw(st.one_of(st.none(), moments)),
        fulfilment=draw(st.one_of(st.none(), fulfilments)),
    )


optional = st.one_of
products = st.builds(
    Product,
    id=iris,
    attributed_to=iris,
    name=names,
    price=money(),
    page=optional(st.none(), pages),
    available=optional(st.none(), st.booleans()),
    stock=optional(st.none(), st.integers(0, 10**6)),
    url=optional(st.none(), iris),
    summary=optional(st.none(), names),
    published=optional(st.none(), moments),
    updated=optional(st.none(), moments),
)
entries = st.builds(
    CalendarEntry,
    id=iris,
    attributed_to=iris,
    name=names,
    price=money(),
    page=optional(st.none(), pages),
    start_time=optional(st.none(), moments),
    end_time=optional(st.none(), moments),
    entry_state=optional(st.none(), st.sampled_from(sorted(ENTRY_STATES))),
    available=optional(st.none(), st.booleans()),
    stock=optional(st.none(), st.integers(0, 99)),
)
audiences = st.lists(iris, max_size=3, unique=True).map(tuple)
envelope = {
    "id": iris,
    "actor": iris,
    "to": audiences,
    "cc": audiences,
    "published": optional(st.none(), moments),
}
follows = st.builds(Follow, object=iris, **envelope)
activities = st.one_of(
    follows,
    st.builds(Undo, object=st.one_of(iris, follows), **envelope),
    st.builds(Accept, object=st.one_of(iris, follows), **envelope),
    st.builds(
        Reject, object=st.one_of(iris, follows), summary=optional(st.none(), names), **envelope
    ),
    st.builds(Create, object=st.one_of(orders(), products, entries), **envelope),
    st.builds(Update, object=st.one_of(orders(), products, entries), **envelope),
    st.builds(Delete, object=iris, **envelope),
    st.builds(
        OrderPaid,
        object=iris,
        payment_reference=names,
        total=optional(st.none(), money()),
        **envelope,
    ),
    st.builds(OrderCancelled, object=iris, summary=optional(st.none(), names), **envelope),
    st.builds(
        OrderRefunded,
        object=iris,
        total=money(),
        items=orders().map(lambda order: order.items[:2]),
        summary=optional(st.none(), names),
        **envelope,
    ),
)


@FAST
@given(activities)
def test_what_we_build_reads_back_the_same_on_the_fast_path(activity: Any) -> None:
    raw = json.dumps(document(activity)).encode()
    assert takes_fast_path(raw)
    assert parse(raw) == activity


@SLOW
@given(activities)
def test_what_we_build_reads_back_the_same_through_json_ld(activity: Any) -> None:
    assert read(compact(document(activity))) == activity


@FAST
@given(st.one_of(orders(), products, entries))
def test_objects_read_back_the_same(value: Any) -> None:
    assert parse(json.dumps(document(value))) == value
