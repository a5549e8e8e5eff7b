"""Typed reading of the objects peers share: orders and their items, products, calendar
entries and actors.

Split from `vocab/reader.py` so each stays small: the reader dispatches on a document's
type and reads the activities around these objects; what an object carries (its offer,
page, fulfilment, items, keys) is read here. `MAX_SUMMARY` bounds every summary we keep.
"""

from __future__ import annotations

from typing import Any

from vocab import fields as f
from vocab.exceptions import UnsupportedType, ValidationError
from vocab.model import (
    ACTOR_TYPES,
    ENTRY_STATES,
    ORDER_STATUSES,
    Actor,
    CalendarEntry,
    Fulfilment,
    Multikey,
    Order,
    OrderItem,
    Page,
    Product,
    PublicKey,
)
from vocab.pages import read_fulfilment, read_page

Node = dict[str, Any]
MAX_SUMMARY = 10_000
PLAIN_TWINS = {
    "plainQuantity": "quantity",
    "plainStock": "stock",
    "plainCapacity": "capacity",
    "plainAvailable": "available",
}


def _with_plain_twins(node: Node) -> Node:
    """Fold a compaction's untyped twins (contexts.READING_EXTRAS) into our terms.

    The fast path never sees these keys: a document using them is not in our context."""
    if not any(twin in node for twin in PLAIN_TWINS):
        return node
    merged = dict(node)
    for twin, term in PLAIN_TWINS.items():
        if twin in merged:
            value = merged.pop(twin)
            merged.setdefault(term, value)
    return merged


def _page(node: Node, path: str) -> Page | None:
    value = node.get("page")
    return None if value is None else read_page(value, f.at(path, "page"))


def read_order_item(node: Node, path: str) -> OrderItem:
    node = _with_plain_twins(node)
    types = node.get("type")
    if types is not None and "OrderItem" not in (types if type(types) is list else [types]):
        raise UnsupportedType(f.at(path, "type"), "an order line must be an OrderItem")
    price = f.money(node, "price", path, required=True)
    quantity = f.integer(node, "quantity", path, minimum=1, required=True)
    assert price is not None and quantity is not None  # noqa: S101 - required=True
    return OrderItem(
        ordered_item=f.required_reference(node, "orderedItem", path),
        quantity=quantity,
        price=price,
        name=f.text(node, "name", path),
    )


def order_items(node: Node, path: str) -> list[OrderItem]:
    """`items` as OrderItems (one embedded object counts as a list of one)."""
    raw = node.get("items", [])
    if type(raw) is dict:
        raw = [raw]
    items_path = f.at(path, "items")
    if type(raw) is not list:
        raise ValidationError(items_path, "must be a non-empty list of OrderItems")
    items = []
    for index, item in enumerate(raw):
        if type(item) is not dict:
            raise ValidationError(f.at(items_path, index), "must be an OrderItem object")
        items.append(read_order_item(item, f.at(items_path, index)))
    return items


def read_order(node: Node, path: str) -> Order:
    if node.get("items") is None:
        raise ValidationError(f.at(path, "items"), "is required")
    items = order_items(node, path)
    if not items:
        raise ValidationError(f.at(path, "items"), "must be a non-empty list of OrderItems")
    items_path = f.at(path, "items")
    total = f.money(node, "total", path, required=True)
    assert total is not None  # noqa: S101 - required=True
    for index, item in enumerate(items):
        if item.price.currency != total.currency:
            raise ValidationError(
                f.at(f.at(f.at(items_path, index), "price"), "currency"),
                f"{item.price.currency} differs from the order total's {total.currency}",
            )
    status = f.choice(node, "orderStatus", path, ORDER_STATUSES, required=True)
    assert status is not None  # noqa: S101 - required=True
    return Order(
        id=f.identifier(node, path),
        attributed_to=f.required_reference(node, "attributedTo", path),
        order_number=f.required_text(node, "orderNumber", path, limit=100),
        order_status=status,
        items=tuple(items),
        total=total,
        page=_page(node, path),
        published=f.timestamp(node, "published", path),
        fulfilment=_chosen(node, path),
    )


def _chosen(node: Node, path: str) -> Fulfilment | None:
    """An order's `fulfilment`: the one way chosen (a list of one; the first counts)."""
    chosen = read_fulfilment(node.get("fulfilment"), f.at(path, "fulfilment"))
    return chosen[0] if chosen else None


def _url(node: Node, path: str) -> str | None:
    """AS2 ``url`` is an IRI or a Link object (its ``href``)."""
    value = node.get("url")
    if type(value) is dict and "href" in value:
        return f.iri(value["href"], f.at(f.at(path, "url"), "href"))
    return f.reference(node, "url", path)


def _offer_fields(node: Node, path: str) -> dict[str, Any]:
    node = _with_plain_twins(node)
    price = f.money(node, "price", path, required=True)
    return {
        "id": f.identifier(node, path),
        "attributed_to": f.required_reference(node, "attributedTo", path),
        "name": f.required_text(node, "name", path),
        "price": price,
        "page": _page(node, path),
        "available": f.boolean(node, "available", path),
        "stock": f.integer(node, "stock", path, minimum=0),
        "url": _url(node, path),
        "summary": f.text(node, "summary", path, limit=MAX_SUMMARY),
        "published": f.timestamp(node, "published", path),
        "updated": f.timestamp(node, "updated", path),
    }


def read_product(node: Node, path: str) -> Product:
    return Product(**_offer_fields(node, path))


def read_calendar_entry(node: Node, path: str) -> CalendarEntry:
    return CalendarEntry(
        **_offer_fields(node, path),
        start_time=f.timestamp(node, "startTime", path),
        end_time=f.timestamp(node, "endTime", path),
        entry_state=f.choice(node, "entryState", path, ENTRY_STATES, required=False),
        time_zone=f.time_zone(node, "timeZone", path),
        capacity=f.integer(_with_plain_twins(node), "capacity", path, minimum=0),
    )


def read_actor(node: Node, path: str) -> Actor:
    kind = next(t for t in f.types_of(node, path) if t in ACTOR_TYPES)
    endpoints = node.get("endpoints")
    shared = None
    if type(endpoints) is dict:
        shared = f.reference(endpoints, "sharedInbox", f.at(path, "endpoints"))
    keys = node.get("publicKey")
    key_list = keys if type(keys) is list else [] if keys is None else [keys]
    public_keys = []
    for index, key in enumerate(key_list):
        where = f.at(path, "publicKey")
        where = f.at(where, index) if type(keys) is list else where
        if type(key) is dict:  # a bare key IRI tells us nothing we can verify with
            public_keys.append(
                PublicKey(
                    id=f.identifier(key, where),
                    owner=f.required_reference(key, "owner", where),
                    public_key_pem=f.required_text(key, "publicKeyPem", where, limit=20_000),
                )
            )
    # Contexts that omit a top-level assertionMethod definition (AS2 + data-integrity +
    # multikey, as FEP-521a examples are often copied) leave it under AS2's "_:" vocab.
    methods = node.get("assertionMethod", node.get("_:assertionMethod"))
    method_list = methods if type(methods) is list else [] if methods is None else [methods]
    assertion_methods = []
    for index, method in enumerate(method_list):
        where = f.at(f.at(path, "assertionMethod"), index)
        if type(method) is dict and "Multikey" in f.types_of(method, where):
            assertion_methods.append(
                Multikey(
                    id=f.identifier(method, where),
                    controller=f.required_reference(method, "controller", where),
                    public_key_multibase=f.required_text(method, "publicKeyMultibase", where),
                )
            )
    approves = node.get("manuallyApprovesFollowers")
    return Actor(
        id=f.identifier(node, path),
        type=kind,
        inbox=f.required_reference(node, "inbox", path),
        outbox=f.reference(node, "outbox", path),
        shared_inbox=shared,
        followers=f.reference(node, "followers", path),
        following=f.reference(node, "following", path),
        preferred_username=f.text(node, "preferredUsername", path),
        name=f.text(node, "name", path),
        public_keys=tuple(public_keys),
        assertion_methods=tuple(assertion_methods),
        catalog=f.reference(node, "catalog", path),
        manually_approves_followers=approves if type(approves) is bool else None,
    )
