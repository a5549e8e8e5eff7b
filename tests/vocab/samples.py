"""Typed sample values shared by the vocab tests (the docs/protocol.md example and friends)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from vocab.model import CalendarEntry, MonetaryAmount, Order, OrderItem, Page, Product

CART = "https://cart.example"
ACTOR = f"{CART}/actor"
FOLLOWERS = f"{CART}/followers"
MARKET = "https://market.example/actor"
CALENDAR = "https://calendar.example/actor"
NOON = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)


def gbp(amount: str) -> MonetaryAmount:
    return MonetaryAmount(amount=Decimal(amount), currency="GBP")


ORDER = Order(
    id=f"{CART}/orders/7f1e",
    attributed_to=ACTOR,
    order_number="RA-000123",
    order_status="pending",
    page=Page(id="https://blog.example/pages/bakery", name="The Bakery"),
    items=(
        OrderItem(
            ordered_item="https://market.example/products/42",
            name="Sourdough loaf",
            quantity=2,
            price=gbp("3.50"),
        ),
        OrderItem(
            ordered_item="https://calendar.example/entries/9",
            name="Bread class, Sat 10:00",
            quantity=1,
            price=gbp("25.00"),
        ),
    ),
    total=gbp("32.00"),
    published=NOON,
)

PRODUCT = Product(
    id="https://market.example/products/42",
    attributed_to=MARKET,
    name="Sourdough loaf",
    price=gbp("3.50"),
    page=Page(id="https://blog.example/pages/bakery", name="The Bakery"),
    available=True,
    stock=12,
    published=NOON,
)

ENTRY = CalendarEntry(
    id="https://calendar.example/entries/9",
    attributed_to=CALENDAR,
    name="Bread class, Sat 10:00",
    price=gbp("25.00"),
    page=Page(id="https://blog.example/pages/bakery"),
    start_time=datetime(2026, 11, 28, 10, 0, tzinfo=UTC),
    end_time=datetime(2026, 11, 28, 12, 0, tzinfo=UTC),
    entry_state="available",
    stock=6,
    capacity=8,
)
