"""Builders for every activity the cart sends (docs/protocol.md, "Messages the cart sends").

Each returns the JSON document to publish, with our ``@context``. Ids come from the
caller: an explicit ``activity_id`` or an injected minter (``IdMinter``), so builders
stay pure and a retried publish can reuse its id. Addressing is checked here: never
``as:Public`` (orders carry commerce between co-op members, not public posts).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from vocab.contexts import AS_PUBLIC
from vocab.exceptions import AddressingError
from vocab.fields import iri
from vocab.model import (
    Accept,
    Activity,
    CatalogObject,
    Create,
    Delete,
    Follow,
    MonetaryAmount,
    Order,
    OrderCancelled,
    OrderedCollection,
    OrderItem,
    OrderPaid,
    OrderRefunded,
    Reject,
    Undo,
    Update,
)
from vocab.writer import document

_PUBLIC = frozenset({AS_PUBLIC, "as:Public", "Public"})


@dataclass(frozen=True)
class IdMinter:
    """Mints ``{origin}/{kind}/{token}`` ids; ``token`` is 128 random bits by default."""

    origin: str
    token: Callable[[], str] = lambda: secrets.token_hex(16)

    def __call__(self, kind: str = "activities") -> str:
        return f"{self.origin.rstrip('/')}/{kind}/{self.token()}"


def _now() -> datetime:
    """`published` when the caller gives none: only for callers outside any component
    (tests, the demo's scripts, `outbox/followers.py` until it is converted). Components
    pass their unit of work's `now` (docs/design.md, "Time")."""
    return datetime.now(UTC).replace(microsecond=0)


def _audience(values: Iterable[str], name: str) -> tuple[str, ...]:
    found: list[str] = []
    for value in values:
        if value in _PUBLIC:
            raise AddressingError(f"{name}: we never address as:Public (docs/protocol.md)")
        iri(value, name)
        if value not in found:
            found.append(value)
    return tuple(found)


def _envelope(
    actor: str, activity_id: str, to: Sequence[str], cc: Sequence[str], published: datetime | None
) -> dict[str, Any]:
    to_list = _audience(to, "to")
    return {
        "id": iri(activity_id, "id"),
        "actor": iri(actor, "actor"),
        "to": to_list,
        "cc": tuple(c for c in _audience(cc, "cc") if c not in to_list),
        "published": published if published is not None else _now(),
    }


def follow(
    *, actor: str, target: str, activity_id: str, published: datetime | None = None
) -> dict[str, Any]:
    """Follow ``target`` (a market/calendar peer), addressed to it."""
    return document(
        Follow(
            **_envelope(actor, activity_id, [target], [], published), object=iri(target, "object")
        )
    )


def undo_follow(
    *, follow: Follow, activity_id: str, published: datetime | None = None
) -> dict[str, Any]:
    return document(
        Undo(**_envelope(follow.actor, activity_id, [follow.object], [], published), object=follow)
    )


def accept(
    *,
    actor: str,
    object: Follow | str,
    to: Sequence[str],
    activity_id: str,
    published: datetime | None = None,
) -> dict[str, Any]:
    """Accept a Follow (embedded) or, from a calendar, an Order by IRI."""
    return document(Accept(**_envelope(actor, activity_id, to, [], published), object=object))


def reject(
    *,
    actor: str,
    object: Follow | str,
    to: Sequence[str],
    activity_id: str,
    summary: str | None = None,
    published: datetime | None = None,
) -> dict[str, Any]:
    return document(
        Reject(**_envelope(actor, activity_id, to, [], published), object=object, summary=summary)
    )


def create(
    *,
    actor: str,
    object: Order | CatalogObject,
    to: Sequence[str],
    cc: Sequence[str],
    activity_id: str,
    published: datetime | None = None,
) -> dict[str, Any]:
    return document(Create(**_envelope(actor, activity_id, to, cc, published), object=object))


def update(
    *,
    actor: str,
    object: Order | CatalogObject,
    to: Sequence[str],
    cc: Sequence[str],
    activity_id: str,
    published: datetime | None = None,
) -> dict[str, Any]:
    return document(Update(**_envelope(actor, activity_id, to, cc, published), object=object))


def delete(
    *,
    actor: str,
    object_id: str,
    to: Sequence[str],
    cc: Sequence[str],
    activity_id: str,
    published: datetime | None = None,
) -> dict[str, Any]:
    return document(
        Delete(**_envelope(actor, activity_id, to, cc, published), object=iri(object_id, "object"))
    )


def order_paid(
    *,
    actor: str,
    order_id: str,
    payment_reference: str,
    to: Sequence[str],
    cc: Sequence[str],
    activity_id: str,
    total: MonetaryAmount | None = None,
    published: datetime | None = None,
) -> dict[str, Any]:
    return document(
        OrderPaid(
            **_envelope(actor, activity_id, to, cc, published),
            object=iri(order_id, "object"),
            payment_reference=payment_reference,
            total=total,
        )
    )


def order_cancelled(
    *,
    actor: str,
    order_id: str,
    to: Sequence[str],
    cc: Sequence[str],
    activity_id: str,
    summary: str | None = None,
    published: datetime | None = None,
) -> dict[str, Any]:
    return document(
        OrderCancelled(
            **_envelope(actor, activity_id, to, cc, published),
            object=iri(order_id, "object"),
            summary=summary,
        )
    )


def order_refunded(
    *,
    actor: str,
    order_id: str,
    total: MonetaryAmount,
    to: Sequence[str],
    cc: Sequence[str],
    activity_id: str,
    items: Sequence[OrderItem] = (),
    summary: str | None = None,
    published: datetime | None = None,
) -> dict[str, Any]:
    """Money went back for `items` (the refunded quantities), or for an amount alone."""
    return document(
        OrderRefunded(
            **_envelope(actor, activity_id, to, cc, published),
            object=iri(order_id, "object"),
            total=total,
            items=tuple(items),
            summary=summary,
        )
    )


def ordered_collection(
    *,
    id: str,
    total_items: int,
    first: str | None = None,
    items: Sequence[str | CatalogObject | Activity] = (),
) -> dict[str, Any]:
    """A collection head: ``first`` page link, or the items inline when they are few."""
    return document(
        OrderedCollection(id=id, total_items=total_items, first=first, ordered_items=tuple(items))
    )


def ordered_collection_page(
    *,
    id: str,
    part_of: str,
    items: Sequence[str | CatalogObject | Activity],
    next: str | None = None,
    prev: str | None = None,
) -> dict[str, Any]:
    return document(
        OrderedCollection(
            id=id, is_page=True, part_of=part_of, next=next, prev=prev, ordered_items=tuple(items)
        )
    )


def order_addressing(*, followers: str, owners: Iterable[str]) -> tuple[list[str], list[str]]:
    """docs/protocol.md: ``to`` our followers, ``cc`` every actor owning an item of the order."""
    cc = list(dict.fromkeys(o for o in owners if o != followers))
    return [followers], cc
