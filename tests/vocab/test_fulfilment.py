"""A page's `fulfilment`: Pickups and Deliveries read as docs/protocol.md documents them."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from vocab.contexts import outgoing_context
from vocab.exceptions import ValidationError
from vocab.model import Fulfilment, MonetaryAmount, Product
from vocab.parse import compact, parse, takes_fast_path
from vocab.reader import read

PAGE = "https://market.example/shops/bakery"


def product(fulfilment: Any) -> dict[str, Any]:
    return {
        "@context": outgoing_context(),
        "id": "https://market.example/products/42",
        "type": ["Object", "Product"],
        "attributedTo": "https://market.example/actor",
        "name": "Sourdough loaf",
        "price": {"type": "MonetaryAmount", "amount": "3.50", "currency": "GBP"},
        "page": {"id": PAGE, "type": "Page", "name": "The Bakery", "fulfilment": fulfilment},
    }


PICKUP = {
    "id": f"{PAGE}#saturday",
    "type": "Pickup",
    "name": "Saturday market stall",
    "location": {"type": "Place", "name": "Market hall, High Street"},
    "startTime": "2026-07-04T08:00:00Z",
    "endTime": "2026-07-04T11:00:00Z",
}
DELIVERY = {
    "id": f"{PAGE}#delivery",
    "type": ["Object", "Delivery"],
    "name": "Bike delivery",
    "area": "Within the ring road",
    "fee": {"type": "MonetaryAmount", "amount": "3.00", "currency": "GBP"},
}
EXPECTED = (
    Fulfilment(
        kind="Pickup",
        id=f"{PAGE}#saturday",
        name="Saturday market stall",
        location="Market hall, High Street",
        start_time=datetime(2026, 7, 4, 8, tzinfo=UTC),
        end_time=datetime(2026, 7, 4, 11, tzinfo=UTC),
    ),
    Fulfilment(
        kind="Delivery",
        id=f"{PAGE}#delivery",
        name="Bike delivery",
        area="Within the ring road",
        fee=MonetaryAmount(amount=Decimal("3.00"), currency="GBP"),
    ),
)


def _fulfilment(document: dict[str, Any]) -> tuple[Fulfilment, ...] | None:
    value = parse(document)
    assert isinstance(value, Product) and value.page is not None
    return value.page.fulfilment


def test_a_page_offers_pickup_and_delivery_in_its_order_on_both_paths() -> None:
    document = product([PICKUP, DELIVERY])
    assert takes_fast_path(document)
    assert _fulfilment(document) == EXPECTED
    via_json_ld = read(compact(copy.deepcopy(document)))
    assert isinstance(via_json_ld, Product) and via_json_ld.page is not None
    assert via_json_ld.page.fulfilment == EXPECTED


def test_unsaid_is_not_the_same_as_no_choice() -> None:
    said_nothing = product(None)
    del said_nothing["page"]["fulfilment"]
    assert _fulfilment(said_nothing) is None
    assert _fulfilment(product([])) == ()


def test_kinds_we_do_not_know_are_skipped_not_refused() -> None:
    drone = {"type": "DroneDrop", "name": "From the sky"}
    assert _fulfilment(product([drone, PICKUP])) == EXPECTED[:1]


@pytest.mark.parametrize(
    ("option", "path"),
    [
        ({**DELIVERY, "fee": {"type": "MonetaryAmount", "amount": 3, "currency": "GBP"}}, "fee"),
        ({**PICKUP, "startTime": "Saturday morning"}, "startTime"),
        ({**PICKUP, "id": "javascript:alert(1)"}, "id"),
        ("a pickup", "fulfilment"),
    ],
)
def test_a_malformed_option_is_refused_naming_where(option: Any, path: str) -> None:
    with pytest.raises(ValidationError) as raised:
        parse(product([option]))
    assert path in raised.value.path
