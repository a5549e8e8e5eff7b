"""The typed values of our federation vocabulary: what `parse` returns and builders take.

Frozen dataclasses, keyword-only, lists as tuples, money as `Decimal`, times as aware
`datetime`s in UTC. Field names are Python spellings of the AS2/rose terms
(``attributed_to`` is ``attributedTo``); IRIs are plain absolute http(s) strings.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

ORDER_STATUSES = frozenset({"pending", "paid", "cancelled", "expired", "failed", "refunded"})
ENTRY_STATES = frozenset({"available", "held", "ordered", "confirmed", "cancelled"})
ACTOR_TYPES = frozenset({"Person", "Service", "Application", "Group", "Organization"})


@dataclass(frozen=True, kw_only=True)
class MonetaryAmount:
    amount: Decimal
    currency: str


FULFILMENT_TYPES = frozenset({"Pickup", "Delivery"})


@dataclass(frozen=True, kw_only=True)
class Fulfilment:
    """One way a page hands over what is bought (its `fulfilment` list, docs/protocol.md).

    ``kind`` is the type: "Pickup" (``location`` is the place's name, ``start_time`` and
    ``end_time`` the window) or "Delivery" (``area`` served, ``fee`` added to the total).
    """

    kind: str
    id: str | None = None
    name: str | None = None
    location: str | None = None
    start_time: datetime | None = None
    end_time: datetime | None = None
    area: str | None = None
    fee: MonetaryAmount | None = None


@dataclass(frozen=True, kw_only=True)
class Page:
    """The shop or venue scope; a bare IRI reference has only ``id``.

    ``fulfilment`` is None when the page says nothing about it (not the same as an empty
    tuple: the page offers no choice)."""

    id: str
    name: str | None = None
    url: str | None = None
    fulfilment: tuple[Fulfilment, ...] | None = None


@dataclass(frozen=True, kw_only=True)
class OrderItem:
    ordered_item: str
    quantity: int
    price: MonetaryAmount
    name: str | None = None


@dataclass(frozen=True, kw_only=True)
class Order:
    id: str
    attributed_to: str
    order_number: str
    order_status: str
    items: tuple[OrderItem, ...]
    total: MonetaryAmount
    page: Page | None = None
    published: datetime | None = None
    # The way the shopper chose to get it (a Delivery's fee is part of `total`).
    fulfilment: Fulfilment | None = None


@dataclass(frozen=True, kw_only=True)
class Offer:
    """What a market product and a bookable calendar entry share: something for sale."""

    id: str
    attributed_to: str
    name: str
    price: MonetaryAmount
    page: Page | None = None
    available: bool | None = None
    stock: int | None = None
    url: str | None = None
    summary: str | None = None
    published: datetime | None = None
    updated: datetime | None = None


@dataclass(frozen=True, kw_only=True)
class Product(Offer):
    pass


@dataclass(frozen=True, kw_only=True)
class CalendarEntry(Offer):
    start_time: datetime | None = None
    end_time: datetime | None = None
    entry_state: str | None = None
    time_zone: str | None = None  # the venue's IANA zone, for showing times to people
    capacity: int | None = None  # seats in all; `stock` is the seats left


@dataclass(frozen=True, kw_only=True)
class PublicKey:
    id: str
    owner: str
    public_key_pem: str


@dataclass(frozen=True, kw_only=True)
class Multikey:
    """An FEP-521a assertion method (``publicKeyMultibase`` left encoded)."""

    id: str
    controller: str
    public_key_multibase: str


@dataclass(frozen=True, kw_only=True)
class Actor:
    id: str
    type: str
    inbox: str
    outbox: str | None = None
    shared_inbox: str | None = None
    followers: str | None = None
    following: str | None = None
    preferred_username: str | None = None
    name: str | None = None
    public_keys: tuple[PublicKey, ...] = ()
    assertion_methods: tuple[Multikey, ...] = ()
    catalog: str | None = None
    manually_approves_followers: bool | None = None

    @property
    def public_key(self) -> PublicKey | None:
        return self.public_keys[0] if self.public_keys else None


CatalogObject = Product | CalendarEntry
SharedObject = Order | Product | CalendarEntry | Actor


@dataclass(frozen=True, kw_only=True)
class Activity:
    id: str
    actor: str
    to: tuple[str, ...] = ()
    cc: tuple[str, ...] = ()
    published: datetime | None = None


@dataclass(frozen=True, kw_only=True)
class Follow(Activity):
    object: str


@dataclass(frozen=True, kw_only=True)
class FollowWithoutId:
    """A Follow embedded in an Undo without an id of its own (Fedify sends these): it is
    known only by who followed whom."""

    actor: str
    object: str


@dataclass(frozen=True, kw_only=True)
class Undo(Activity):
    """Only an Undo of a Follow is in our contract: embedded (with or without its id), or
    by IRI."""

    object: Follow | FollowWithoutId | str


@dataclass(frozen=True, kw_only=True)
class Accept(Activity):
    """Of a Follow (embedded or IRI) or of an Order IRI."""

    object: Follow | str


@dataclass(frozen=True, kw_only=True)
class Reject(Activity):
    object: Follow | str
    summary: str | None = None


@dataclass(frozen=True, kw_only=True)
class Create(Activity):
    object: SharedObject


@dataclass(frozen=True, kw_only=True)
class Update(Activity):
    object: SharedObject


@dataclass(frozen=True, kw_only=True)
class Delete(Activity):
    """``object`` is the IRI of what is gone (a Tombstone is read as its id)."""

    object: str


@dataclass(frozen=True, kw_only=True)
class OrderPaid(Activity):
    object: str
    payment_reference: str
    total: MonetaryAmount | None = None


@dataclass(frozen=True, kw_only=True)
class OrderCancelled(Activity):
    object: str
    summary: str | None = None


@dataclass(frozen=True, kw_only=True)
class OrderRefunded(Activity):
    """Money for part or all of the order named by ``object`` went back to the shopper.

    ``items`` are the refunded lines (each with the quantity refunded): peers release
    or restock exactly those; empty for a refund of an amount alone. ``total`` is the
    amount refunded this time.
    """

    object: str
    total: MonetaryAmount
    items: tuple[OrderItem, ...] = ()
    summary: str | None = None


@dataclass(frozen=True, kw_only=True)
class OrderedCollection:
    """An OrderedCollection or OrderedCollectionPage (``is_page``)."""

    id: str
    is_page: bool = False
    total_items: int | None = None
    first: str | None = None
    next: str | None = None
    prev: str | None = None
    part_of: str | None = None
    ordered_items: tuple[str | CatalogObject | Activity, ...] = ()


AnyActivity = (
    Follow
    | Undo
    | Accept
    | Reject
    | Create
    | Update
    | Delete
    | OrderPaid
    | OrderCancelled
    | OrderRefunded
)
Parsed = AnyActivity | SharedObject | OrderItem | Page | MonetaryAmount | OrderedCollection
