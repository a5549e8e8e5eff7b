"""bench/vocab: parse cost per activity, fast path and JSON-LD path, against json.loads.

Each figure is microseconds per parse of one document's bytes; the baseline is plain
``json.loads`` of the very same bytes in the same run, so the ratio says what reading
our vocabulary costs over just decoding JSON.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from functools import partial
from typing import Any

from bench.harness import Figure, rate, report
from vocab import builders as b
from vocab.contexts import AS2_CONTEXT
from vocab.model import MonetaryAmount, Order, OrderItem, Page
from vocab.parse import parse, takes_fast_path

CART = "https://cart.example"
NOON = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)


def _gbp(amount: str) -> MonetaryAmount:
    return MonetaryAmount(amount=Decimal(amount), currency="GBP")


def _documents() -> dict[str, dict[str, Any]]:
    order = Order(
        id=f"{CART}/orders/7f1e",
        attributed_to=f"{CART}/actor",
        order_number="RA-000123",
        order_status="pending",
        page=Page(id="https://blog.example/pages/bakery", name="Bakery"),
        items=(
            OrderItem(
                ordered_item="https://market.example/products/42",
                name="Loaf",
                quantity=2,
                price=_gbp("3.50"),
            ),
            OrderItem(
                ordered_item="https://calendar.example/entries/9",
                name="Class",
                quantity=1,
                price=_gbp("25.00"),
            ),
        ),
        total=_gbp("32.00"),
        published=NOON,
    )
    to, cc = (
        [f"{CART}/followers"],
        ["https://market.example/actor", "https://calendar.example/actor"],
    )
    create = b.create(
        actor=f"{CART}/actor",
        object=order,
        to=to,
        cc=cc,
        activity_id=f"{CART}/activities/0b6c",
        published=NOON,
    )
    paid = b.order_paid(
        actor=f"{CART}/actor",
        order_id=order.id,
        payment_reference="chk_1",
        to=to,
        cc=cc,
        activity_id=f"{CART}/activities/1c7d",
        published=NOON,
    )
    follow = {
        "@context": AS2_CONTEXT,
        "id": "https://coop.example/f/1",
        "type": "Follow",
        "actor": "https://coop.example/users/coop",
        "object": f"{CART}/actor",
    }
    return {"Create(Order)": create, "OrderPaid": paid, "Follow (Mastodon)": follow}


def _slow(document: dict[str, Any]) -> dict[str, Any]:
    """The same activity with one extra inline context that only JSON-LD may read: an
    `@vocab`, which the fast path never folds (vocab/fastpath.py). A plain extra term
    such as Mastodon's "toot" no longer serves: the fast path folds it and agrees."""
    context = document["@context"]
    extra = {"@vocab": "http://joinmastodon.org/ns#"}
    slow = dict(document)
    slow["@context"] = [*context, extra] if isinstance(context, list) else [context, extra]
    return slow


def _micros(operation: Callable[[], object], seconds: float) -> float:
    return 1e6 / rate(operation, seconds=seconds)


def main() -> None:
    figures: list[Figure] = []
    for name, document in _documents().items():
        fast = json.dumps(document).encode()
        slow = json.dumps(_slow(document)).encode()
        assert takes_fast_path(fast) and not takes_fast_path(slow)
        assert parse(fast) == parse(slow)
        for label, raw, seconds in (("fast path", fast, 1.0), ("JSON-LD path", slow, 2.0)):
            baseline = _micros(partial(json.loads, raw), 0.5)
            ours = _micros(partial(parse, raw), seconds)
            figures.append(
                Figure(
                    f"parse {name}, {label} ({len(raw)} B)",
                    ours,
                    baseline,
                    "µs/parse",
                    higher_is_better=False,
                )
            )
    report("vocab: parse cost per activity vs json.loads of the same bytes", figures)


if __name__ == "__main__":
    main()
