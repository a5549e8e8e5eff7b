"""Typed values -> AS2-compacted JSON, shaped like docs/protocol.md's example.

Extension types travel with an AS2 fallback type (``["Object", "Order"]``) because
many servers refuse a type they do not know. ``document(value)`` adds our
``@context`` at the top; nested objects carry none.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from vocab.contexts import outgoing_context
from vocab.model import (
    Accept,
    Activity,
    Actor,
    CalendarEntry,
    Create,
    Delete,
    Follow,
    Fulfilment,
    MonetaryAmount,
    Order,
    OrderCancelled,
    OrderedCollection,
    OrderItem,
    OrderPaid,
    OrderRefunded,
    Page,
    Parsed,
    Product,
    Reject,
    Undo,
    Update,
)
from vocab.money import format_amount

_ACTIVITY_TYPES: dict[type[Activity], str | list[str]] = {
    Follow: "Follow",
    Undo: "Undo",
    Accept: "Accept",
    Reject: "Reject",
    Create: "Create",
    Update: "Update",
    Delete: "Delete",
    OrderPaid: ["Activity", "OrderPaid"],
    OrderCancelled: ["Activity", "OrderCancelled"],
    OrderRefunded: ["Activity", "OrderRefunded"],
}


def document(value: Parsed) -> dict[str, Any]:
    return {"@context": outgoing_context(), **node(value)}


def timestamp(moment: datetime) -> str:
    """xsd:dateTime in UTC with a ``Z``; sub-second digits only when there are some."""
    utc = moment.astimezone(UTC)
    spec = "seconds" if utc.microsecond == 0 else "microseconds"
    return utc.replace(tzinfo=None).isoformat(timespec=spec) + "Z"


def node(value: Any) -> dict[str, Any]:
    if isinstance(value, Activity):
        return _activity(value)
    if isinstance(value, MonetaryAmount):
        return money(value)
    writer = _OBJECT_WRITERS.get(type(value))
    if writer is None:
        raise TypeError(f"not a vocabulary value: {type(value).__name__}")
    written: dict[str, Any] = writer(value)
    return written


def money(value: MonetaryAmount) -> dict[str, Any]:
    return {
        "type": "MonetaryAmount",
        "amount": format_amount(value.amount),
        "currency": value.currency,
    }


def _set(out: dict[str, Any], key: str, value: Any) -> None:
    if value is None:
        return
    if isinstance(value, datetime):
        value = timestamp(value)
    elif isinstance(value, MonetaryAmount):
        value = money(value)
    out[key] = value


def _activity(value: Activity) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": value.id,
        "type": _ACTIVITY_TYPES[type(value)],
        "actor": value.actor,
    }
    if value.to:
        out["to"] = list(value.to)
    if value.cc:
        out["cc"] = list(value.cc)
    _set(out, "published", value.published)
    target: Any = getattr(value, "object")  # noqa: B009 - every concrete activity has one
    out["object"] = target if isinstance(target, str) else node(target)
    if isinstance(value, Reject | OrderCancelled | OrderRefunded):
        _set(out, "summary", value.summary)
    if isinstance(value, OrderRefunded):
        if value.items:
            out["items"] = [_order_item(item) for item in value.items]
        out["total"] = money(value.total)
    if isinstance(value, OrderPaid):
        out["paymentReference"] = value.payment_reference
        _set(out, "total", value.total)
    return out


def _page(value: Page) -> dict[str, Any] | str:
    if value.name is None and value.url is None and value.fulfilment is None:
        return value.id
    out: dict[str, Any] = {"id": value.id, "type": "Page"}
    _set(out, "name", value.name)
    _set(out, "url", value.url)
    if value.fulfilment is not None:
        out["fulfilment"] = [fulfilment(option) for option in value.fulfilment]
    return out


def fulfilment(value: Fulfilment) -> dict[str, Any]:
    """One Pickup or Delivery of a page (docs/protocol.md), as it travels."""
    out: dict[str, Any] = {"type": value.kind}
    _set(out, "id", value.id)
    _set(out, "name", value.name)
    if value.location is not None:
        out["location"] = {"type": "Place", "name": value.location}
    _set(out, "startTime", value.start_time)
    _set(out, "endTime", value.end_time)
    _set(out, "area", value.area)
    if value.fee is not None:
        out["fee"] = money(value.fee)
    return out


def _order_item(value: OrderItem) -> dict[str, Any]:
    out: dict[str, Any] = {"type": "OrderItem", "orderedItem": value.ordered_item}
    _set(out, "name", value.name)
    out["quantity"] = value.quantity
    out["price"] = money(value.price)
    return out


def _order(value: Order) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": value.id,
        "type": ["Object", "Order"],
        "attributedTo": value.attributed_to,
        "orderNumber": value.order_number,
        "orderStatus": value.order_status,
    }
    if value.page is not None:
        out["page"] = _page(value.page)
    out["items"] = [_order_item(item) for item in value.items]
    out["total"] = money(value.total)
    if value.fulfilment is not None:
        out["fulfilment"] = [fulfilment(value.fulfilment)]
    _set(out, "published", value.published)
    return out


def _offer(value: Product | CalendarEntry, types: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": value.id,
        "type": types,
        "attributedTo": value.attributed_to,
        "name": value.name,
    }
    _set(out, "summary", value.summary)
    _set(out, "url", value.url)
    if value.page is not None:
        out["page"] = _page(value.page)
    out["price"] = money(value.price)
    _set(out, "available", value.available)
    _set(out, "stock", value.stock)
    if isinstance(value, CalendarEntry):
        _set(out, "startTime", value.start_time)
        _set(out, "endTime", value.end_time)
        _set(out, "entryState", value.entry_state)
        _set(out, "timeZone", value.time_zone)
        _set(out, "capacity", value.capacity)
    _set(out, "published", value.published)
    _set(out, "updated", value.updated)
    return out


def _actor(value: Actor) -> dict[str, Any]:
    # What our context can say about an actor (e.g. in an Update of one); the actor
    # document itself, with its Multikey, is actor/documents.py's.
    out: dict[str, Any] = {"id": value.id, "type": value.type, "inbox": value.inbox}
    _set(out, "outbox", value.outbox)
    _set(out, "followers", value.followers)
    _set(out, "following", value.following)
    _set(out, "preferredUsername", value.preferred_username)
    _set(out, "name", value.name)
    if value.shared_inbox:
        out["endpoints"] = {"sharedInbox": value.shared_inbox}
    _set(out, "catalog", value.catalog)
    if value.public_keys:
        keys = [
            {"id": k.id, "owner": k.owner, "publicKeyPem": k.public_key_pem}
            for k in value.public_keys
        ]
        out["publicKey"] = keys[0] if len(keys) == 1 else keys
    return out


def _collection(value: OrderedCollection) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": value.id,
        "type": "OrderedCollectionPage" if value.is_page else "OrderedCollection",
    }
    _set(out, "totalItems", value.total_items)
    _set(out, "partOf", value.part_of)
    _set(out, "first", value.first)
    _set(out, "prev", value.prev)
    _set(out, "next", value.next)
    if value.ordered_items or value.is_page:
        out["orderedItems"] = [i if isinstance(i, str) else node(i) for i in value.ordered_items]
    return out


_OBJECT_WRITERS: dict[type, Any] = {
    Order: _order,
    OrderItem: _order_item,
    Page: lambda value: (
        _page(value)
        if value.name or value.url or value.fulfilment is not None
        else {"id": value.id, "type": "Page"}
    ),
    Product: lambda value: _offer(value, ["Object", "Product"]),
    CalendarEntry: lambda value: _offer(value, ["Event", "CalendarEntry"]),
    Actor: _actor,
    OrderedCollection: _collection,
}
