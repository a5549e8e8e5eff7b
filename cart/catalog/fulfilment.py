"""How a page hands over what is bought: the options its owner publishes, as kept and offered.

docs/protocol.md: a Page carries `fulfilment`, a list of Pickups (a place and a time
window) and Deliveries (an area and a fee). Only the page's own origin is believed (the
mirror and the page-details job store it; `encode`), kept as JSON on the page's row.
At checkout the shopper chooses one of `offered(...)`: what the page said, without the
pickups whose window has passed, or, when the page says nothing, the configured default
(`ROSE_CART_FULFILMENT_DEFAULT`: `pickup`, `pickup: PLACE` or `none`). A page that
publishes an empty list asks nothing. Each option has a short `key` (from its IRI, or
from what it says when it has none): the form submits it, and the operator's packing
list groups a page's orders by it.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any, cast

from sqlalchemy import Table, bindparam, select
from sqlalchemy.orm import Session

from cart.catalog.models import CatalogPage
from cart.money import Money
from store import direct
from vocab.model import Fulfilment

PICKUP = "pickup"
DELIVERY = "delivery"
DEFAULT_KEY = "default"
MAX_TEXT = 500
KINDS = {"Pickup": PICKUP, "Delivery": DELIVERY}


@dataclass(frozen=True)
class Option:
    """One way to hand over an order, as the shopper chooses it and the order keeps it."""

    key: str
    kind: str  # PICKUP | DELIVERY
    name: str
    place: str | None = None  # pickup: where; delivery: the area served
    start: datetime | None = None
    end: datetime | None = None
    fee: Money | None = None
    id: str | None = None  # the page's IRI for it, when it gave one

    @property
    def is_delivery(self) -> bool:
        return self.kind == DELIVERY


@dataclass(frozen=True)
class DefaultFulfilment:
    """What `ROSE_CART_FULFILMENT_DEFAULT` says: a pickup (somewhere) or nothing to ask."""

    pickup: bool
    place: str | None = None

    def options(self, page_name: str) -> tuple[Option, ...]:
        if not self.pickup:
            return ()
        return (Option(DEFAULT_KEY, PICKUP, f"Collect from {page_name}", self.place),)


def parse_default(text: str) -> DefaultFulfilment:
    """`pickup`, `pickup: PLACE` or `none`; raises ValueError saying so otherwise."""
    kind, _, place = text.partition(":")
    kind = kind.strip().lower()
    if kind == "none" and not place.strip():
        return DefaultFulfilment(pickup=False)
    if kind == PICKUP and len(place) <= MAX_TEXT:
        return DefaultFulfilment(pickup=True, place=place.strip() or None)
    raise ValueError("FULFILMENT_DEFAULT must be 'pickup', 'pickup: PLACE' or 'none'")


def _key(option: Fulfilment) -> str:
    if option.id is not None:
        seed = option.id
    else:
        seed = json.dumps(
            [option.kind, option.name, option.location, option.area, _moment(option.start_time)]
        )
    return hashlib.sha256(seed.encode()).hexdigest()[:32]


def _moment(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _fee(option: Fulfilment) -> dict[str, str] | None:
    if option.fee is None or option.fee.amount <= 0:
        return None
    return {"amount": format(option.fee.amount, "f"), "currency": option.fee.currency}


def encode(options: tuple[Fulfilment, ...]) -> str:
    """What a page said, for its row: Pickups and Deliveries with their keys."""
    kept: list[dict[str, Any]] = [
        {
            "key": _key(option),
            "kind": KINDS[option.kind],
            "id": option.id,
            "name": (option.name or "")[:MAX_TEXT],
            "place": ((option.location if option.kind == "Pickup" else option.area) or "")[
                :MAX_TEXT
            ],
            "start": _moment(option.start_time),
            "end": _moment(option.end_time),
            "fee": _fee(option) if option.kind == "Delivery" else None,
        }
        for option in options
        if option.kind in KINDS
    ]
    return json.dumps(kept, separators=(",", ":"))


def _decoded(entry: dict[str, Any]) -> Option | None:
    try:
        fee = entry.get("fee")
        kind = entry["kind"]
        name = entry.get("name") or ("Delivery" if kind == DELIVERY else "Pickup")
        return Option(
            key=str(entry["key"]),
            kind=kind,
            name=name,
            place=entry.get("place") or None,
            start=datetime.fromisoformat(entry["start"]) if entry.get("start") else None,
            end=datetime.fromisoformat(entry["end"]) if entry.get("end") else None,
            fee=Money(Decimal(fee["amount"]), fee["currency"]) if fee else None,
            id=entry.get("id"),
        )
    except (KeyError, TypeError, ValueError, InvalidOperation):
        return None


def decode(text: str | None) -> tuple[Option, ...] | None:
    """A page row's options; None when the page said nothing."""
    if text is None:
        return None
    try:
        entries = json.loads(text)
    except ValueError:
        return None
    if not isinstance(entries, list):
        return None
    found = (_decoded(e) for e in entries if isinstance(e, dict))
    return tuple(option for option in found if option is not None)


def _open(option: Option, now: datetime) -> bool:
    """A pickup whose window has closed is no longer offered."""
    last = option.end or option.start
    return option.kind != PICKUP or last is None or last > now


_PAGES = cast(Table, CatalogPage.__table__)
# Core, built once per process: checkout and the cart pages read it for every page cart.
_PAGE_SAYS = select(_PAGES.c.name, _PAGES.c.fulfilment).where(_PAGES.c.key == bindparam("key"))


def offered(
    session: Session,
    page_key: str,
    now: datetime,
    default: DefaultFulfilment,
    *,
    currency: str | None = None,
) -> tuple[Option, ...]:
    """The choices a page cart's checkout offers (a unit function: reads one row).

    With `currency`, a delivery whose fee is in another currency (or finer than it
    allows) is left out: it could not be charged with the order."""
    row = direct.first(session, _PAGE_SAYS, {"key": page_key})
    if row is None:
        return offered_by(None, None, now, default, currency=currency)
    name, fulfilment = row
    return offered_by(name, fulfilment, now, default, currency=currency)


def offered_by(
    name: str | None,
    fulfilment: str | None,
    now: datetime,
    default: DefaultFulfilment,
    *,
    currency: str | None = None,
) -> tuple[Option, ...]:
    """`offered` for a page row already read: its name and its kept `fulfilment`."""
    said = decode(fulfilment)
    if said is None:
        return default.options(name or "the seller")
    return tuple(
        option
        for option in said
        if _open(option, now)
        and (currency is None or option.fee is None or _chargeable(option.fee, currency))
    )


def _chargeable(fee: Money, currency: str) -> bool:
    return fee.currency == currency and not fee.finer_than_its_currency()


def choose(options: tuple[Option, ...], key: object) -> Option | None:
    """The option the form named; the only one when there is one; None otherwise."""
    if len(options) == 1 and not key:
        return options[0]
    return next((option for option in options if option.key == key), None)
