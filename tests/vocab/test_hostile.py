"""Hostile and broken documents: each refused with the JSON path of the problem."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from tests.vocab.samples import ACTOR, CALENDAR, CART, FOLLOWERS, MARKET, NOON, ORDER
from vocab import builders as b
from vocab.exceptions import LimitExceeded, UnsupportedType, ValidationError
from vocab.limits import MAX_DEPTH, MAX_LIST, MAX_STRING
from vocab.parse import parse

Edit = Callable[[dict[str, Any]], None]


def create_order() -> dict[str, Any]:
    return b.create(
        actor=ACTOR,
        object=ORDER,
        to=[FOLLOWERS],
        cc=[MARKET, CALENDAR],
        activity_id=f"{CART}/activities/0b6c",
        published=NOON,
    )


def item(doc: dict[str, Any], index: int = 1) -> dict[str, Any]:
    found: dict[str, Any] = doc["object"]["items"][index]
    return found


def _set(path: list[str | int], value: Any) -> Edit:
    def edit(doc: dict[str, Any]) -> None:
        target: Any = doc
        for step in path[:-1]:
            target = target[step]
        target[path[-1]] = value

    return edit


def _drop(path: list[str | int]) -> Edit:
    def edit(doc: dict[str, Any]) -> None:
        target: Any = doc
        for step in path[:-1]:
            target = target[step]
        del target[path[-1]]

    return edit


CASES: dict[str, tuple[Edit, str, str]] = {
    "float price": (
        _set(["object", "items", 1, "price", "amount"], 25.0),
        "object.items[1].price.amount",
        "decimal string",
    ),
    "exponent price": (
        _set(["object", "items", 1, "price", "amount"], "2.5E+1"),
        "object.items[1].price.amount",
        "plain non-negative decimal",
    ),
    "negative price": (
        _set(["object", "total", "amount"], "-32.00"),
        "object.total.amount",
        "plain non-negative decimal",
    ),
    "NaN price": (_set(["object", "total", "amount"], "NaN"), "object.total.amount", "decimal"),
    "negative quantity": (
        _set(["object", "items", 0, "quantity"], -2),
        "object.items[0].quantity",
        "at least 1",
    ),
    "zero quantity": (
        _set(["object", "items", 0, "quantity"], 0),
        "object.items[0].quantity",
        "at least 1",
    ),
    "fractional quantity": (
        _set(["object", "items", 0, "quantity"], 1.5),
        "object.items[0].quantity",
        "integer",
    ),
    "boolean quantity": (
        _set(["object", "items", 0, "quantity"], True),
        "object.items[0].quantity",
        "integer",
    ),
    "unknown currency": (
        _set(["object", "items", 0, "price", "currency"], "XYZ"),
        "object.items[0].price.currency",
        "ISO 4217",
    ),
    "lower-case currency": (
        _set(["object", "total", "currency"], "gbp"),
        "object.total.currency",
        "ISO 4217",
    ),
    "mixed currencies": (
        _set(["object", "items", 1, "price", "currency"], "EUR"),
        "object.items[1].price.currency",
        "differs",
    ),
    "missing activity id": (_drop(["id"]), "id", "required"),
    "missing order id": (_drop(["object", "id"]), "object.id", "required"),
    "missing actor": (_drop(["actor"]), "actor", "required"),
    "missing type": (_drop(["object", "type"]), "object.type", "required"),
    "missing total": (_drop(["object", "total"]), "object.total", "required"),
    "no items": (_set(["object", "items"], []), "object.items", "non-empty"),
    "item not an object": (
        _set(["object", "items", 1], "https://market.example/p/1"),
        "object.items[1]",
        "OrderItem",
    ),
    "unknown status": (
        _set(["object", "orderStatus"], "shipped"),
        "object.orderStatus",
        "not one of",
    ),
    "javascript IRI": (
        _set(["object", "items", 0, "orderedItem"], "javascript:alert(1)"),
        "object.items[0].orderedItem",
        "http(s)",
    ),
    "relative IRI": (_set(["actor"], "/actor"), "actor", "http(s)"),
    "ftp IRI": (_set(["object", "id"], "ftp://cart.example/orders/1"), "object.id", "http(s)"),
    "IRI with spaces": (_set(["to"], ["https://cart.example/a b"]), "to[0]", "http(s)"),
    "numeric IRI": (_set(["object", "attributedTo"], 42), "object.attributedTo", "IRI"),
    "bad timestamp": (_set(["published"], "yesterday"), "published", "xsd:dateTime"),
    "naive timestamp": (_set(["published"], "2026-11-24T10:00:00"), "published", "time zone"),
    # Both parse, and neither can be put in UTC: this answered 500 at the inbox.
    "past year 9999 in UTC": (
        _set(["published"], "9999-12-31T23:59:59-14:00"),
        "published",
        "between the years",
    ),
    "before year 1 in UTC": (
        _set(["object", "published"], "0001-01-01T00:00:00+14:00"),
        "object.published",
        "between the years",
    ),
    "unknown activity": (_set(["type"], "Like"), "type", "no type we accept"),
    "Create of a Note": (_set(["object", "type"], "Note"), "object.type", "no type we accept"),
    "Create of a Follow": (_set(["object", "type"], "Follow"), "object.type", "not accepted"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_each_bad_value_is_named_by_its_path(case: str) -> None:
    edit, path, words = CASES[case]
    document = create_order()
    edit(document)
    with pytest.raises(ValidationError) as caught:
        parse(json.dumps(document).encode())
    assert caught.value.path == path
    assert words in caught.value.message


def test_the_error_reads_as_path_and_message() -> None:
    document = create_order()
    item(document)["price"]["amount"] = 25.0
    with pytest.raises(ValidationError) as caught:
        parse(document)
    assert str(caught.value) == (
        'object.items[1].price.amount: must be a decimal string such as "3.50", not a number'
    )


def test_deep_nesting_is_refused_before_any_processing() -> None:
    document = create_order()
    deep: dict[str, Any] = {"id": "https://evil.example/0"}
    for level in range(MAX_DEPTH + 5):
        deep = {"id": f"https://evil.example/{level}", "inReplyTo": deep}
    document["object"]["inReplyTo"] = deep
    with pytest.raises(LimitExceeded) as caught:
        parse(json.dumps(document))
    assert caught.value.path.startswith("object.inReplyTo.inReplyTo")
    assert "deeper than" in caught.value.message


def test_very_deep_json_does_not_overflow_the_stack() -> None:
    text = '{"type": "Create", "object": ' + "[" * 5000 + "]" * 5000 + "}"
    with pytest.raises(ValidationError):
        parse(text)


def test_huge_lists_are_refused() -> None:
    document = create_order()
    document["cc"] = [f"https://x{i}.example/actor" for i in range(MAX_LIST + 1)]
    with pytest.raises(LimitExceeded) as caught:
        parse(document)
    assert caught.value.path == "cc"


def test_huge_strings_are_refused_even_inside_contexts() -> None:
    document = create_order()
    document["@context"] = [*document["@context"], {"x": "https://e.example/" + "a" * MAX_STRING}]
    with pytest.raises(LimitExceeded) as caught:
        parse(document)
    assert caught.value.path == "@context[3].x"


def test_huge_integers_are_refused() -> None:
    document = create_order()
    text = json.dumps(document).replace('"quantity": 2', '"quantity": ' + "9" * 40)
    with pytest.raises(ValidationError) as caught:
        parse(text)
    assert caught.value.path in ("", "object.items[0].quantity")


@pytest.mark.parametrize("body", [b"", b"[]", b'"Create"', b"{", b'{"a": NaN}'])
def test_not_a_json_object(body: bytes) -> None:
    with pytest.raises(ValidationError) as caught:
        parse(body)
    assert caught.value.path == ""


def test_a_document_without_any_context_is_refused() -> None:
    document = create_order()
    del document["@context"]
    with pytest.raises(ValidationError) as caught:
        parse(document)
    assert caught.value.path == "@context"


def test_only_a_follow_can_be_undone() -> None:
    document = b.undo_follow(
        follow=parse(json.dumps(b.follow(actor=ACTOR, target=MARKET, activity_id=f"{CART}/a/1"))),  # type: ignore[arg-type]
        activity_id=f"{CART}/a/2",
    )
    document["object"]["type"] = "Like"
    with pytest.raises(UnsupportedType) as caught:
        parse(document)
    assert caught.value.path == "object.type"


def test_remote_context_tricks_never_reach_the_network(no_network: list[str]) -> None:
    document = create_order()
    document["@context"] = [
        "https://evil.example/a",
        {"@import": "https://evil.example/b"},
        {"x": {"@id": "https://e.example/x", "@context": "https://evil.example/c"}},
        *document["@context"],
    ]
    document["x"] = {"y": 1}
    try:
        parse(document)
    except ValidationError:
        pass
    assert no_network == []


@pytest.mark.parametrize(
    "path", [["object", "items", 0, "name"], ["to", 0], ["object", "shopperNote"]]
)
def test_a_nul_in_any_string_is_refused_by_its_path(path: list[str | int]) -> None:
    # PostgreSQL's text cannot hold one: stored, it would fail the insert, not the sender.
    document = create_order()
    _set(path, "a\x00b")(document)
    with pytest.raises(LimitExceeded) as caught:
        parse(json.dumps(document))
    assert "NUL" in caught.value.message
    assert caught.value.path == ".".join(str(p) for p in path).replace(".0", "[0]")
