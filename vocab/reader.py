"""Typed reading of a compacted document (our terms as plain keys) into model values.

Both parse paths end here: the fast path hands over the JSON as received, the JSON-LD
path the result of compacting it against our context. A ``type`` may be a string or a
list; the rose: type wins when present (docs/protocol.md sends ``["Object", "Order"]``).
The objects themselves (orders, products, calendar entries, actors) are read by
`vocab/shared_reading.py`; the activities around them are read here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from vocab import fields as f
from vocab.exceptions import UnsupportedType, ValidationError
from vocab.model import (
    ACTOR_TYPES,
    Accept,
    Create,
    Delete,
    Follow,
    FollowWithoutId,
    OrderCancelled,
    OrderedCollection,
    OrderPaid,
    OrderRefunded,
    Parsed,
    Reject,
    SharedObject,
    Undo,
    Update,
)
from vocab.pages import read_page
from vocab.shared_reading import (
    MAX_SUMMARY,
    order_items,
    read_actor,
    read_calendar_entry,
    read_order,
    read_order_item,
    read_product,
)

Node = dict[str, Any]
ROSE_TYPES = (
    "Order",
    "OrderItem",
    "OrderPaid",
    "OrderCancelled",
    "OrderRefunded",
    "Product",
    "CalendarEntry",
    "Page",
    "MonetaryAmount",
    "Pickup",
    "Delivery",
)


def main_type(node: Node, path: str) -> str:
    types = f.types_of(node, path)
    for name in types:
        if name in ROSE_TYPES:
            return name
    for name in types:
        if name in _READERS:
            return name
    shown = ", ".join(t[:60] for t in types[:5])
    raise UnsupportedType(f.at(path, "type"), f"no type we accept among: {shown}")


def read(node: Node, path: str = "") -> Parsed:
    kind = main_type(node, path)
    if kind == "MonetaryAmount":
        return f.monetary_amount(node, path)
    value: Parsed = _READERS[kind](node, path)
    return value


def _envelope(node: Node, path: str) -> dict[str, Any]:
    return {
        "id": f.identifier(node, path),
        "actor": f.required_reference(node, "actor", path),
        "to": f.audience(node, "to", path),
        "cc": f.audience(node, "cc", path),
        "published": f.timestamp(node, "published", path),
    }


def _embedded(node: Node, path: str) -> Node:
    value = node.get("object")
    if type(value) is list and len(value) == 1:
        value = value[0]
    if value is None:
        raise ValidationError(f.at(path, "object"), "is required")
    if type(value) is not dict:
        raise ValidationError(f.at(path, "object"), "must be an embedded object")
    return value


def read_follow(node: Node, path: str) -> Follow:
    return Follow(**_envelope(node, path), object=f.required_reference(node, "object", path))


def _follow_or_iri(node: Node, path: str, what: str) -> Follow | str:
    value = node.get("object")
    if type(value) is list and len(value) == 1:
        value = value[0]
    if type(value) is dict and "type" in value:
        where = f.at(path, "object")
        kind = main_type(value, where)
        if kind == "Order" and what != "Undo":  # a calendar may embed the Order it answers
            return f.identifier(value, where)
        if kind != "Follow":
            allowed = "a Follow" if what == "Undo" else "a Follow or an Order"
            raise UnsupportedType(f.at(where, "type"), f"{what} is accepted only of {allowed}")
        return read_follow(value, where)
    return f.required_reference(node, "object", path)


def read_undo(node: Node, path: str) -> Undo:
    value = node.get("object")
    if type(value) is list and len(value) == 1:
        value = value[0]
    if type(value) is dict and "id" not in value and "Follow" in f.types_of(value, path):
        # Fedify's Undo embeds the Follow it undoes without the Follow's id.
        where = f.at(path, "object")
        without_id = FollowWithoutId(
            actor=f.required_reference(value, "actor", where),
            object=f.required_reference(value, "object", where),
        )
        return Undo(**_envelope(node, path), object=without_id)
    return Undo(**_envelope(node, path), object=_follow_or_iri(node, path, "Undo"))


def read_accept(node: Node, path: str) -> Accept:
    return Accept(**_envelope(node, path), object=_follow_or_iri(node, path, "Accept"))


def read_reject(node: Node, path: str) -> Reject:
    return Reject(
        **_envelope(node, path),
        object=_follow_or_iri(node, path, "Reject"),
        summary=f.text(node, "summary", path, limit=MAX_SUMMARY),
    )


def _shared_object(node: Node, path: str, verb: str) -> SharedObject:
    value = _embedded(node, path)
    where = f.at(path, "object")
    kind = main_type(value, where)
    reader = _SHARED.get(kind)
    if reader is None:
        raise UnsupportedType(f.at(where, "type"), f"{verb} of a {kind} is not accepted")
    return reader(value, where)


def read_create(node: Node, path: str) -> Create:
    return Create(**_envelope(node, path), object=_shared_object(node, path, "Create"))


def read_update(node: Node, path: str) -> Update:
    return Update(**_envelope(node, path), object=_shared_object(node, path, "Update"))


def read_delete(node: Node, path: str) -> Delete:
    return Delete(**_envelope(node, path), object=f.required_reference(node, "object", path))


def read_order_paid(node: Node, path: str) -> OrderPaid:
    return OrderPaid(
        **_envelope(node, path),
        object=f.required_reference(node, "object", path),
        payment_reference=f.required_text(node, "paymentReference", path, limit=200),
        total=f.money(node, "total", path, required=False),
    )


def read_order_cancelled(node: Node, path: str) -> OrderCancelled:
    return OrderCancelled(
        **_envelope(node, path),
        object=f.required_reference(node, "object", path),
        summary=f.text(node, "summary", path, limit=MAX_SUMMARY),
    )


def read_order_refunded(node: Node, path: str) -> OrderRefunded:
    items = order_items(node, path)
    total = f.money(node, "total", path, required=True)
    assert total is not None  # noqa: S101 - required=True
    return OrderRefunded(
        **_envelope(node, path),
        object=f.required_reference(node, "object", path),
        items=tuple(items),
        total=total,
        summary=f.text(node, "summary", path, limit=MAX_SUMMARY),
    )


def read_collection(node: Node, path: str) -> OrderedCollection:
    raw = node.get("orderedItems", [])
    if type(raw) is not list:
        raw = [raw]
    items_path = f.at(path, "orderedItems")
    items: list[Any] = []
    for index, item in enumerate(raw):
        where = f.at(items_path, index)
        items.append(f.iri(item, where) if type(item) is not dict else read(item, where))
    return OrderedCollection(
        id=f.identifier(node, path),
        is_page="OrderedCollectionPage" in f.types_of(node, path),
        total_items=f.integer(node, "totalItems", path, minimum=0),
        first=f.reference(node, "first", path),
        next=f.reference(node, "next", path),
        prev=f.reference(node, "prev", path),
        part_of=f.reference(node, "partOf", path),
        ordered_items=tuple(items),
    )


_SHARED: dict[str, Callable[[Node, str], SharedObject]] = {
    "Order": read_order,
    "Product": read_product,
    "CalendarEntry": read_calendar_entry,
    **{name: read_actor for name in ACTOR_TYPES},
}
_READERS: dict[str, Callable[[Node, str], Any]] = {
    **_SHARED,
    "OrderItem": read_order_item,
    "Page": lambda node, path: read_page(node, path),
    "Follow": read_follow,
    "Undo": read_undo,
    "Accept": read_accept,
    "Reject": read_reject,
    "Create": read_create,
    "Update": read_update,
    "Delete": read_delete,
    "OrderPaid": read_order_paid,
    "OrderCancelled": read_order_cancelled,
    "OrderRefunded": read_order_refunded,
    "OrderedCollection": read_collection,
    "OrderedCollectionPage": read_collection,
}
