"""Reading single values out of a compacted JSON object, each failure with its path."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from functools import cache
from typing import Any
from zoneinfo import available_timezones

from vocab.contexts import AS_NS, AS_PUBLIC, ROSE_NS
from vocab.exceptions import ValidationError
from vocab.limits import MAX_IRI
from vocab.model import MonetaryAmount
from vocab.money import is_currency, parse_amount

Node = dict[str, Any]

# Prefixes our reading contexts define; a compacted IRI may come back as one of these.
PREFIXES = {"as": AS_NS, "sec": "https://w3id.org/security#", "rose": ROSE_NS}
_HTTP_IRI = re.compile(r"https?://[^\x00-\x20\x7f/?#@]+(?:[/?#][^\x00-\x20\x7f]*)?")
_PUBLIC_SPELLINGS = frozenset({"Public", "as:Public", AS_PUBLIC})
MAX_NAME = 1_000


def at(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


def iri(value: Any, path: str, key: str | int | None = None) -> str:
    """``value`` as an absolute http(s) IRI; errors name ``path`` (plus ``key``, joined
    only when there is an error: this runs for every IRI of every document)."""
    if type(value) is not str:
        raise ValidationError(_join(path, key), f"must be an IRI string, not {_kind(value)}")
    if value[:4] != "http" and ":" in value:
        prefix, _, rest = value.partition(":")
        if prefix in PREFIXES and not rest.startswith("//"):
            value = PREFIXES[prefix] + rest
    checked: str = value
    if len(checked) > MAX_IRI:
        raise ValidationError(_join(path, key), f"an IRI longer than {MAX_IRI} characters")
    if _HTTP_IRI.fullmatch(checked) is None:
        raise ValidationError(
            _join(path, key), f"must be an absolute http(s) IRI, not {checked[:80]!r}"
        )
    return checked


def _join(path: str, key: str | int | None) -> str:
    return path if key is None else at(path, key)


def reference(node: Node, key: str, path: str) -> str | None:
    """An IRI given as a string or as an embedded object with an ``id``."""
    value = node.get(key)
    if value is None:
        return None
    if type(value) is list and len(value) == 1:
        value = value[0]
    if type(value) is dict:
        if "id" not in value:
            raise ValidationError(at(at(path, key), "id"), "is required")
        return iri(value["id"], at(path, key), "id")
    return iri(value, path, key)


def required_reference(node: Node, key: str, path: str) -> str:
    found = reference(node, key, path)
    if found is None:
        raise ValidationError(at(path, key), "is required")
    return found


def identifier(node: Node, path: str) -> str:
    if "id" not in node:
        raise ValidationError(at(path, "id"), "is required")
    return iri(node["id"], path, "id")


def audience(node: Node, key: str, path: str) -> tuple[str, ...]:
    value = node.get(key)
    if value is None:
        return ()
    values = value if type(value) is list else [value]
    found = []
    listed = type(value) is list
    for index, item in enumerate(values):
        if type(item) is str and item in _PUBLIC_SPELLINGS:
            found.append(AS_PUBLIC)
        elif type(item) is dict:
            where = at(at(path, key), index) if listed else at(path, key)
            found.append(iri(item.get("id"), where, "id"))
        else:
            found.append(iri(item, at(path, key), index if listed else None))
    return tuple(found)


def text(
    node: Node, key: str, path: str, *, required: bool = False, limit: int = MAX_NAME
) -> str | None:
    value = node.get(key)
    if value is None:
        if required:
            raise ValidationError(at(path, key), "is required")
        return None
    if type(value) is not str:
        raise ValidationError(at(path, key), f"must be a string, not {_kind(value)}")
    if len(value) > limit:
        raise ValidationError(at(path, key), f"longer than {limit} characters")
    if required and not value.strip():
        raise ValidationError(at(path, key), "must not be empty")
    return value


def required_text(node: Node, key: str, path: str, *, limit: int = MAX_NAME) -> str:
    value = text(node, key, path, required=True, limit=limit)
    assert value is not None  # noqa: S101 - text(required=True) raised otherwise
    return value


def choice(
    node: Node, key: str, path: str, allowed: frozenset[str], *, required: bool
) -> str | None:
    value = text(node, key, path, required=required)
    if value is not None and value not in allowed:
        options = ", ".join(sorted(allowed))
        raise ValidationError(at(path, key), f"{value[:40]!r} is not one of: {options}")
    return value


def integer(node: Node, key: str, path: str, *, minimum: int, required: bool = False) -> int | None:
    value = node.get(key)
    if value is None:
        if required:
            raise ValidationError(at(path, key), "is required")
        return None
    if type(value) is not int:
        raise ValidationError(at(path, key), f"must be an integer, not {_kind(value)}")
    if value < minimum:
        raise ValidationError(at(path, key), f"must be at least {minimum}, not {value}")
    return value


def boolean(node: Node, key: str, path: str) -> bool | None:
    value = node.get(key)
    if value is None or type(value) is bool:
        return value
    raise ValidationError(at(path, key), f"must be true or false, not {_kind(value)}")


# The instants a delivery may name: far enough either way for any shop, near enough that
# adding a day, a window or an offset to one never leaves what a datetime can hold.
EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)
LATEST = datetime(9000, 1, 1, tzinfo=UTC)


def timestamp(node: Node, key: str, path: str) -> datetime | None:
    value = node.get(key)
    if value is None:
        return None
    if type(value) is not str or len(value) > 40:
        raise ValidationError(at(path, key), "must be an xsd:dateTime string")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise ValidationError(at(path, key), f"{value!r} is not an xsd:dateTime") from None
    if parsed.tzinfo is None:
        raise ValidationError(at(path, key), "must carry a time zone (e.g. a trailing Z)")
    try:  # 9999-12-31T23:59:59-14:00 is past the last instant a datetime can hold in UTC
        moment = parsed.astimezone(UTC)
    except OverflowError:
        moment = None
    if moment is None or not EARLIEST <= moment < LATEST:
        raise ValidationError(
            at(path, key), f"{value!r} is not between the years {EARLIEST.year} and {LATEST.year}"
        )
    return moment


@cache
def _known_zones() -> frozenset[str]:
    return frozenset(available_timezones())


def time_zone(node: Node, key: str, path: str) -> str | None:
    """An IANA zone name; anything else (not a string, unknown, too long) reads as unsaid.

    Liberal on purpose: a zone only changes how times are shown, and the reader of the
    entry falls back to its own default zone, so a calendar with a newer zone database
    than ours must not get its entries refused.
    """
    value = node.get(key)
    if type(value) is not str or len(value) > 64 or value not in _known_zones():
        return None
    return value


def money(node: Node, key: str, path: str, *, required: bool) -> MonetaryAmount | None:
    value = node.get(key)
    if value is None:
        if required:
            raise ValidationError(at(path, key), "is required")
        return None
    return monetary_amount(value, at(path, key))


def monetary_amount(value: Any, where: str) -> MonetaryAmount:
    if type(value) is not dict:
        raise ValidationError(where, f"must be a MonetaryAmount object, not {_kind(value)}")
    types = value.get("type")
    if types is not None and "MonetaryAmount" not in (types if type(types) is list else [types]):
        raise ValidationError(at(where, "type"), "must be MonetaryAmount")
    amount = value.get("amount")
    if amount is None:
        raise ValidationError(at(where, "amount"), "is required")
    if type(amount) is not str:
        raise ValidationError(
            at(where, "amount"), f'must be a decimal string such as "3.50", not {_kind(amount)}'
        )
    number = parse_amount(amount)
    if number is None:
        raise ValidationError(
            at(where, "amount"), f'{amount[:40]!r} is not a plain non-negative decimal like "3.50"'
        )
    currency = value.get("currency")
    if type(currency) is not str:
        raise ValidationError(at(where, "currency"), "is required: an ISO 4217 code such as GBP")
    if not is_currency(currency):
        raise ValidationError(at(where, "currency"), f"{currency[:20]!r} is not an ISO 4217 code")
    return MonetaryAmount(amount=number, currency=currency)


def types_of(node: Node, path: str) -> tuple[str, ...]:
    value = node.get("type")
    if value is None:
        raise ValidationError(at(path, "type"), "is required")
    if type(value) is str:
        return (value,)
    if type(value) is list and value and all(type(v) is str for v in value):
        return tuple(value)
    raise ValidationError(at(path, "type"), "must be a type name or a list of them")


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    return {
        bool: "a boolean",
        int: "a number",
        float: "a number",
        str: "a string",
        list: "a list",
        dict: "an object",
    }.get(type(value), type(value).__name__)
