"""A seller's page as we read it: its name, its link, and how it hands things over.

Pages reach us inside products, entries and orders, and on their own from the page's
origin (cart/catalog/page_details.py); all of them are read here. `rose:fulfilment` is a
list of Pickups and Deliveries (docs/protocol.md).
"""

from __future__ import annotations

from typing import Any

from vocab import fields as f
from vocab.exceptions import ValidationError
from vocab.model import FULFILMENT_TYPES, Fulfilment, Page

MAX_FULFILMENT = 20  # ways one page offers; any beyond are not read


def read_page(value: Any, path: str) -> Page:
    if type(value) is list and len(value) == 1:
        value = value[0]
    if type(value) is str:
        return Page(id=f.iri(value, path))
    if type(value) is not dict:
        raise ValidationError(path, "must be a Page object or its IRI")
    url = value.get("url")
    if type(url) is dict:
        url = url.get("href")
    return Page(
        id=f.identifier(value, path),
        name=f.text(value, "name", path),
        url=f.iri(url, f.at(path, "url")) if url is not None else None,
        fulfilment=read_fulfilment(value.get("fulfilment"), f.at(path, "fulfilment")),
    )


def _place_name(value: Any, path: str) -> str | None:
    """AS2 ``location`` as people read it: a Place's ``name`` (a bare IRI says nothing)."""
    if type(value) is list and value:
        value = value[0]
    if type(value) is not dict:
        return None
    return f.text(value, "name", path)


def read_fulfilment(value: Any, path: str) -> tuple[Fulfilment, ...] | None:
    """A page's ways of handing over: Pickups and Deliveries, in the page's order.

    Options of a type we do not know are skipped (a newer page may offer more kinds); a
    Pickup or Delivery that is malformed is refused like any other value we read."""
    if value is None:
        return None
    raw = value if type(value) is list else [value]
    options = []
    for index, node in enumerate(raw[:MAX_FULFILMENT]):
        where = f.at(path, index) if type(value) is list else path
        if type(node) is not dict:
            raise ValidationError(where, "must be a Pickup or Delivery object")
        kind = next((t for t in f.types_of(node, where) if t in FULFILMENT_TYPES), None)
        if kind is None:
            continue
        option_id = node.get("id")
        options.append(
            Fulfilment(
                kind=kind,
                id=f.iri(option_id, f.at(where, "id")) if option_id is not None else None,
                name=f.text(node, "name", where),
                location=_place_name(node.get("location"), f.at(where, "location")),
                start_time=f.timestamp(node, "startTime", where),
                end_time=f.timestamp(node, "endTime", where),
                area=f.text(node, "area", where),
                fee=f.money(node, "fee", where, required=False),
            )
        )
    return tuple(options)
