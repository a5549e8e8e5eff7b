"""However a peer spells the same activity, it reads as the same value; however it tries
to change what our terms mean, it cannot."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from tests.vocab.samples import ACTOR, CALENDAR, CART, FOLLOWERS, MARKET, NOON, ORDER
from vocab import builders as b
from vocab.contexts import AS2_CONTEXT, SECURITY_V1, rose_terms
from vocab.exceptions import UnsupportedType, ValidationError
from vocab.parse import compact, parse, takes_fast_path
from vocab.reader import read

ROSE = "https://rose-ash.com/ns#"
AS = "https://www.w3.org/ns/activitystreams#"
RENAMES = {  # our compact term -> its IRI, for respelling documents
    term: ROSE + term for term in rose_terms() if term not in ("rose", "xsd")
}


def ours() -> dict[str, Any]:
    return b.create(
        actor=ACTOR,
        object=ORDER,
        to=[FOLLOWERS],
        cc=[MARKET, CALENDAR],
        activity_id=f"{CART}/activities/0b6c",
        published=NOON,
    )


EXPECTED = parse(ours())


def respell(value: Any, spell: Any) -> Any:
    """Rename every rose term key and rose type with ``spell(term)``."""
    if isinstance(value, list):
        return [respell(v, spell) for v in value]
    if not isinstance(value, dict):
        return value
    out = {}
    for key, item in value.items():
        if key == "@context":
            out[key] = item
            continue
        if key == "type":
            item = (
                [spell(t) if t in RENAMES else t for t in item]
                if isinstance(item, list)
                else spell(item)
                if item in RENAMES
                else item
            )
        item = respell(item, spell)
        if key in ("orderedItem", "page") and isinstance(item, str):
            item = {"id": item}  # outside our context a bare string is text, not a link
        if key == "items":  # outside our context's @container, a list must say it is one
            item = {"@list": item}
        out[spell(key) if key in RENAMES else key] = item
    return out


def test_compact_terms_take_the_fast_path() -> None:
    assert takes_fast_path(ours())
    assert parse(ours()) == EXPECTED


def test_rose_prefixed_terms_read_the_same() -> None:
    document = respell(ours(), lambda term: f"rose:{term}")
    assert not takes_fast_path(document)
    assert parse(document) == EXPECTED


def test_full_iris_read_the_same_even_with_as2_alone() -> None:
    document = respell(ours(), lambda term: ROSE + term)
    document["@context"] = AS2_CONTEXT
    assert parse(document) == EXPECTED


def test_contexts_reordered_read_the_same() -> None:
    document = ours()
    document["@context"] = [SECURITY_V1, AS2_CONTEXT, rose_terms()]
    assert takes_fast_path(document)
    assert parse(document) == EXPECTED


def test_extra_inline_contexts_read_the_same() -> None:
    document = ours()
    document["@context"] = [
        AS2_CONTEXT,
        {"toot": "http://joinmastodon.org/ns#", "sensitive": "as:sensitive"},
        SECURITY_V1,
        rose_terms(),
        {"schema": "http://schema.org#"},
    ]
    document["sensitive"] = False
    # plain inline term definitions that leave ours alone keep the fast path...
    assert takes_fast_path(document)
    assert parse(document) == EXPECTED
    # ...and read what JSON-LD processing reads
    assert read(compact(document)) == EXPECTED


def test_an_inline_context_that_redefines_a_term_we_read_goes_through_json_ld() -> None:
    document = ours()
    document["@context"] = [*ours()["@context"], {"name": "http://schema.org#name"}]
    assert not takes_fast_path(document)


@pytest.mark.parametrize(
    "extra",
    [
        {"@vocab": "https://e.example/"},
        {"@base": "https://e.example/"},
        {"Product": {"@id": "rose:Product", "@context": {"name": "as:summary"}}},
        {"ex:term": "https://e.example/term"},
    ],
)
def test_an_inline_context_beyond_plain_definitions_goes_through_json_ld(
    extra: dict[str, object],
) -> None:
    document = ours()
    document["@context"] = [*ours()["@context"], extra]
    assert not takes_fast_path(document)


def test_our_context_by_url_reads_the_same() -> None:
    document = ours()
    document["@context"] = [AS2_CONTEXT, "https://rose-ash.com/ns"]
    assert takes_fast_path(document)
    assert parse(document) == EXPECTED


def test_a_context_of_different_meaning_for_the_same_words_is_not_ours() -> None:
    # Under AS2 alone "orderNumber" is not our term at all (and "Page" is as:Page):
    # the document must go through JSON-LD, where our terms are missing.
    document = ours()
    document["@context"] = AS2_CONTEXT
    assert not takes_fast_path(document)
    with pytest.raises(UnsupportedType) as caught:
        parse(document)
    assert caught.value.path == "object.type"


@pytest.mark.parametrize(
    ("redefinition", "path"),
    [
        ({"orderNumber": "https://evil.example/orderNumber"}, "object.orderNumber"),
        ({"amount": "https://evil.example/amount"}, "object.items[0].price.amount"),
        ({"Order": "https://evil.example/Order"}, "object.type"),
        ({"type": "https://evil.example/type"}, "type"),
        ({"id": "https://evil.example/id"}, "id"),
        (
            {"quantity": {"@id": "rose:quantity", "@type": "https://evil.example/bigint"}},
            "object.items[0].quantity",
        ),
        ({"items": {"@id": "rose:items"}}, "object.items"),
    ],
)
def test_redefining_terms_cannot_smuggle_another_meaning(
    redefinition: dict[str, Any], path: str
) -> None:
    document = ours()
    document["@context"] = [*document["@context"], redefinition]
    assert not takes_fast_path(document)
    with pytest.raises(ValidationError) as caught:
        parse(document)
    assert caught.value.path == path


def test_a_redefinition_nested_inside_the_object_is_caught_too() -> None:
    document = ours()
    document["object"]["@context"] = {"orderStatus": "https://evil.example/status"}
    assert not takes_fast_path(document)
    with pytest.raises(ValidationError) as caught:
        parse(document)
    assert caught.value.path == "object.orderStatus"


@pytest.mark.parametrize(
    "redefinition",
    [
        {"orderNumber": "rose:orderNumber"},
        # terms are fixed when defined: moving the prefix afterwards changes none of them
        {"rose": "https://evil.example/ns#"},
    ],
)
def test_a_redefinition_that_keeps_our_meaning_is_harmless(redefinition: dict[str, str]) -> None:
    document = ours()
    document["@context"] = [*document["@context"], redefinition]
    assert parse(document) == EXPECTED


def test_unknown_remote_contexts_are_never_fetched(no_network: list[str]) -> None:
    document = ours()
    document["@context"] = [*document["@context"], "https://evil.example/ctx.jsonld"]
    assert parse(document) == EXPECTED
    bare = copy.deepcopy(ours())
    bare["@context"] = "https://evil.example/only.jsonld"
    with pytest.raises(ValidationError):
        parse(json.dumps(bare))
    assert no_network == []


def test_reading_only_aliases_are_not_terms_a_sender_can_use() -> None:
    # plainQuantity exists only in our reading context (for untyped full-IRI numbers);
    # a document using it under our sending context has not said "quantity".
    document = ours()
    line = document["object"]["items"][0]
    line["plainQuantity"] = line.pop("quantity")
    assert not takes_fast_path(document)
    with pytest.raises(ValidationError) as caught:
        parse(document)
    assert caught.value.path == "object.items[0].quantity"


def test_type_may_be_a_string_or_a_list_and_the_rose_type_wins() -> None:
    document = ours()
    document["object"]["type"] = "Order"
    assert parse(document) == EXPECTED
    document["object"]["type"] = ["Order", "Object", "https://other.example/Thing"]
    assert parse(document) == EXPECTED
    paid = b.order_paid(
        actor=ACTOR,
        order_id=ORDER.id,
        payment_reference="c",
        to=[FOLLOWERS],
        cc=[],
        activity_id=f"{CART}/a/9",
        published=NOON,
    )
    expected = parse(paid)
    paid["type"] = "OrderPaid"
    assert parse(paid) == expected
    paid["type"] = ["Activity", "OrderPaid"]
    assert parse(paid) == expected


def test_a_standalone_monetary_amount_names_its_own_fields() -> None:
    document = {
        "@context": ours()["@context"],
        "type": "MonetaryAmount",
        "amount": 3.5,
        "currency": "GBP",
    }
    with pytest.raises(ValidationError) as caught:
        parse(document)
    assert caught.value.path == "amount"


def test_a_calendar_may_answer_an_order_by_iri_or_embedded() -> None:
    from vocab.model import Accept

    by_iri = b.accept(actor=CALENDAR, object=ORDER.id, to=[ACTOR], activity_id=f"{CART}/x/1")
    embedded = dict(by_iri, object=ours()["object"])
    assert parse(by_iri) == parse(embedded)
    accepted = parse(embedded)
    assert isinstance(accepted, Accept) and accepted.object == ORDER.id
